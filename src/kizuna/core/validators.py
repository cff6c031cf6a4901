import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def corporate_number_check_digit(base12: str) -> int:
    """The check digit of a 法人番号 for its 12-digit base number."""
    # From the right: odd positions weigh 1, even positions 2.
    total = sum(map(int, base12[-1::-2])) + 2 * sum(map(int, base12[-2::-2]))
    return 9 - total % 9


def validate_corporate_number(value: str) -> None:
    if not (len(value) == 13 and value.isascii() and value.isdigit()):
        raise ValidationError(_("A corporate number (法人番号) has 13 digits."), code="format")
    if int(value[0]) != corporate_number_check_digit(value[1:]):
        raise ValidationError(
            _("This corporate number (法人番号) has a wrong check digit."), code="check_digit"
        )


def normalize_phone(raw: str, region: str = "JP") -> str:
    """Return the number in E.164, or raise ValidationError."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise ValidationError(
            _("“%(value)s” is not a phone number."), code="phone", params={"value": raw}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str, region: str = "JP") -> str:
    """Show a stored number the way people in the org's country write it."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == region:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
