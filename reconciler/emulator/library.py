"""Meta's template library, as far as the emulator knows it: a few utility templates that a
create with ``library_template_name`` expands into components (Meta: "no components"; the
template is approved at once). Meta's own library holds hundreds; the emulator knows these names
and refuses others, as Meta refuses a name its library lacks."""

from __future__ import annotations

from typing import Any

from .errors import invalid_parameter

TRACK = {"type": "URL", "text": "Track package", "url": "https://www.example.com/track/{{1}}",
         "example": ["https://www.example.com/track/1Z999"]}
LIBRARY: dict[str, dict[str, Any]] = {
    "delivery_update_1": {"body": "Good news! Your order {{1}} is on its way and should arrive {{2}}.",
                          "example": [["#12345", "tomorrow"]]},
    "payment_scheduled_3": {"body": "Your payment of {{1}} for {{2}} is scheduled for {{3}}.",
                            "example": [["$30.00", "your plan", "March 3"]]},
}
BODY_INPUTS = ("add_contact_number", "add_learn_more_link", "add_security_recommendation", "add_track_package_link",
               "code_expiration_minutes")


def expand(name: Any, category: str, body_inputs: Any, button_inputs: Any) -> list[dict[str, Any]]:
    """The components Meta writes for a library template, or its refusal."""
    if category not in ("UTILITY", "AUTHENTICATION"):
        raise invalid_parameter("Templates from the template library are UTILITY or AUTHENTICATION templates.")
    entry = LIBRARY.get(name) if isinstance(name, str) else None
    if entry is None:
        raise invalid_parameter(f"The template library has no template {str(name)[:60]!r}.", title="Library template not found")
    inputs = body_inputs or {}
    if not isinstance(inputs, dict) or set(inputs) - set(BODY_INPUTS):
        raise invalid_parameter(f"library_template_body_inputs takes {', '.join(BODY_INPUTS)}.")
    if button_inputs is not None and not isinstance(button_inputs, list):
        raise invalid_parameter("library_template_button_inputs must be an array.")
    components: list[dict[str, Any]] = [{"type": "BODY", "text": entry["body"], "example": {"body_text": entry["example"]}}]
    buttons = [TRACK] if inputs.get("add_track_package_link") else []
    buttons += [{"type": "QUICK_REPLY", "text": str(b.get("text") or "OK")[:25]} for b in button_inputs or []
                if isinstance(b, dict) and str(b.get("type", "")).upper() == "QUICK_REPLY"]
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    return components
