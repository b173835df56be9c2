"""English dates and times: day, abbreviated month, year, 24-hour clock ("1 Dec 2026,
22:00"), never the US month-first order. One family everywhere: pages, emails, the
export's README (settings.FORMAT_MODULE_PATH)."""

DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j M"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
#: What date fields read: ISO 8601 (what <input type="date"> sends), then the shown
#: form ("1 Dec 2026", "1 December 2026"); cloudportal.dates reads the shown form in
#: any language.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d %b %Y", "%d %B %Y"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"]
