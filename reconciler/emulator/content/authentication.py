"""AUTHENTICATION templates: a fixed shape whose texts Meta writes itself, and one OTP button."""

from __future__ import annotations

from typing import Any

from .. import errors
from ..errors import invalid_parameter
from .buttons import BUTTON_TEXT_MAX

OTP_TYPES = ("COPY_CODE", "ONE_TAP", "ZERO_TAP")
OTP_PAGE = "https://www.whatsapp.com/otp/code/"


def authentication_component(kind: str, component: dict[str, Any]) -> dict[str, Any]:
    """One component (``kind`` in upper case) of an authentication template, as Meta stores it."""
    if kind == "HEADER":
        raise invalid_parameter("Authentication templates have no header.", errors.HEADER_FORMAT)
    if kind == "BODY":
        if component.get("text"):
            raise invalid_parameter(
                "Authentication template bodies have no text; Meta supplies it.", errors.BODY_FORMAT
            )
        secure = component.get("add_security_recommendation", False)
        if not isinstance(secure, bool):
            raise invalid_parameter("add_security_recommendation must be a boolean.")
        text = "*{{1}}* is your verification code."
        if secure:
            text += " For your security, do not share this code."
        return {"type": "BODY", "text": text, "add_security_recommendation": secure}
    if kind == "FOOTER":
        minutes = component.get("code_expiration_minutes")
        if minutes is None:
            return {"type": "FOOTER"}
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 90:
            raise invalid_parameter("code_expiration_minutes must be an integer from 1 to 90.")
        return {
            "type": "FOOTER",
            "text": f"This code expires in {minutes} minutes.",
            "code_expiration_minutes": minutes,
        }
    buttons = component.get("buttons")
    if not isinstance(buttons, list) or len(buttons) != 1 or not isinstance(buttons[0], dict):
        raise invalid_parameter("Authentication templates have exactly one OTP button.")
    button = dict(buttons[0])
    if str(button.get("type", "")).upper() != "OTP":
        raise invalid_parameter("Authentication templates have exactly one OTP button.")
    otp_type = str(button.get("otp_type", "")).upper()
    if otp_type not in OTP_TYPES:
        raise invalid_parameter(f"otp_type must be one of {', '.join(OTP_TYPES)}.")
    if otp_type != "COPY_CODE":
        apps = button.get("supported_apps")
        signature = button.get("signature_hash")
        if not apps and not (button.get("package_name") and signature):
            raise invalid_parameter(
                f"{otp_type} buttons need package_name and signature_hash, or supported_apps.",
                errors.MISSING_FIELD,
            )
        if signature is not None and (not isinstance(signature, str) or len(signature) != 11):
            raise invalid_parameter("signature_hash is exactly 11 characters.")
    for key, most in (("text", BUTTON_TEXT_MAX), ("autofill_text", BUTTON_TEXT_MAX), ("package_name", 224)):
        if isinstance(button.get(key), str) and len(button[key]) > most:
            raise invalid_parameter(f"{key} is limited to {most} characters.", errors.TOO_LONG)
    # Meta stores the OTP button as a URL button to its own code page (its authentication template
    # guide says the button comes back as type URL). Whether supported_apps come back too is not
    # documented: kept (lenient), so that a one-tap template can be read back whole.
    stored = {
        "type": "URL",
        "text": button.get("text") or "Copy code",
        "url": f"{OTP_PAGE}?otp_type={otp_type}&code=otp{{{{1}}}}",
        "example": [f"{OTP_PAGE}?otp_type={otp_type}&code=otp123456"],
    }
    if button.get("supported_apps"):
        stored["supported_apps"] = button["supported_apps"]
    return {"type": "BUTTONS", "buttons": [stored]}
