"""Meta's synchronous checks on template content, as the emulator applies them on create and edit.

Pure functions: they take the request's fields and either return the components as Meta stores
them (enum case normalised, media handles turned into CDN URLs, authentication text generated) or
raise a ``GraphError`` with the code and subcode the real API uses (graph-api-facts.md sections
1.7 and 2). Where Meta's subcode for a rule is unknown, the error is code 100 without a subcode.

| module              | checks                                                             |
|---------------------|--------------------------------------------------------------------|
| ``fields``          | name, language, category and parameter_format of a template        |
| ``components``      | the components array, and each HEADER, BODY and FOOTER             |
| ``buttons``         | the buttons of a BUTTONS component                                 |
| ``authentication``  | the fixed shape of AUTHENTICATION templates                        |
| ``variables``       | component text: length, braces, variables, their examples          |
"""

from .components import body_text, check_components
from .fields import check_category, check_language, check_name, check_parameter_format, check_ttl
from .variables import adjacent_variables

__all__ = [
    "adjacent_variables",
    "body_text",
    "check_category",
    "check_components",
    "check_language",
    "check_name",
    "check_parameter_format",
    "check_ttl",
]
