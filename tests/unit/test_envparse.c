/* On/off flags and decimal values as operators write them. */
#include <stdint.h>

#include "../../shim/envparse.h"
#include "unit.h"

TEST(flags_truthy_falsy_and_mistakes)
{
	CHECK_INT(parse_flag(NULL), FLAG_UNSET);
	CHECK_INT(parse_flag(""), FLAG_UNSET);
	CHECK_INT(parse_flag("  "), FLAG_UNSET);
	CHECK_INT(parse_flag("true"), FLAG_TRUE);
	CHECK_INT(parse_flag("TRUE"), FLAG_TRUE);
	CHECK_INT(parse_flag("1"), FLAG_TRUE);
	CHECK_INT(parse_flag("Yes"), FLAG_TRUE);
	CHECK_INT(parse_flag(" on "), FLAG_TRUE);
	CHECK_INT(parse_flag("false"), FLAG_FALSE);
	CHECK_INT(parse_flag("0"), FLAG_FALSE);
	CHECK_INT(parse_flag("NO"), FLAG_FALSE);
	CHECK_INT(parse_flag("off"), FLAG_FALSE);
	CHECK_INT(parse_flag("2"), FLAG_INVALID);
	CHECK_INT(parse_flag("enabled"), FLAG_INVALID);
	CHECK_INT(parse_flag("tru"), FLAG_INVALID);
	CHECK_INT(parse_flag("truee"), FLAG_INVALID);
	CHECK_INT(parse_flag("y"), FLAG_INVALID);
}

TEST(decimal_seconds_to_ms)
{
	uint64_t v = 0;

	CHECK_INT(parse_decimal("3", 1000, 3600000, &v), 0);
	CHECK_INT(v, 3000);
	CHECK_INT(parse_decimal("2.5", 1000, 3600000, &v), 0);
	CHECK_INT(v, 2500);
	CHECK_INT(parse_decimal(".25", 1000, 3600000, &v), 0);
	CHECK_INT(v, 250);
	CHECK_INT(parse_decimal(" 0 ", 1000, 3600000, &v), 0);
	CHECK_INT(v, 0);
	CHECK_INT(parse_decimal("1.0009", 1000, 3600000, &v), 0);
	CHECK_INT(v, 1000);
	CHECK_INT(parse_decimal("3600", 1000, 3600000, &v), 0);
	CHECK_INT(v, 3600000);
}

TEST(decimal_hours_to_ms)
{
	uint64_t v = 0;

	CHECK_INT(parse_decimal("6", 3600000, 168ull * 3600000, &v), 0);
	CHECK_INT(v, 6ull * 3600000);
	CHECK_INT(parse_decimal("0.001", 3600000, 168ull * 3600000, &v), 0);
	CHECK_INT(v, 3600);
	CHECK_INT(parse_decimal("168", 3600000, 168ull * 3600000, &v), 0);
	CHECK_INT(parse_decimal("168.1", 3600000, 168ull * 3600000, &v), -1);
}

TEST(decimal_rejects_malformed)
{
	static const char *const bad[] = {
		"", " ", ".", "-1", "+1", "1e3", "0x10", "1.2.3", "1,5",
		"abc", "3s", "nan", "inf", "1 2", "99999999999999999999999",
	};
	uint64_t v = 42;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_decimal(bad[i], 1000, 3600000, &v) != -1)
			unit_fail(__FILE__, __LINE__, bad[i]);
	}
	CHECK_INT(v, 42);
	CHECK_INT(parse_decimal("3601", 1000, 3600000, &v), -1);
}

TEST(int_ranges)
{
	int v = 0;

	CHECK_INT(parse_int_range("0", 0, 255, &v), 0);
	CHECK_INT(v, 0);
	CHECK_INT(parse_int_range("255", 0, 255, &v), 0);
	CHECK_INT(v, 255);
	CHECK_INT(parse_int_range("256", 0, 255, &v), -1);
	CHECK_INT(parse_int_range("-1", 0, 255, &v), -1);
	CHECK_INT(parse_int_range("", 0, 255, &v), -1);
	CHECK_INT(parse_int_range("1x", 0, 255, &v), -1);
	CHECK_INT(parse_int_range("99999999999999999999", 0, 255, &v), -1);
	CHECK_INT(parse_int_range(" 7 ", 0, 255, &v), 0);
	CHECK_INT(v, 7);
}
