/* Report encoding, spool, snapshot routing, Docker mapping, token rules. */
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../shim/deliver.h"
#include "../../shim/deployid.h"
#include "../../shim/docker_probe.h"
#include "../../shim/embed.h"
#include "../../shim/report.h"
#include "../../shim/snapshot.h"
#include "../../shim/spool.h"
#include "unit.h"

static json_t *attr(json_t *span, const char *key)
{
	json_t *a = json_object_get(span, "attributes"), *kv;
	size_t i;

	json_array_foreach(a, i, kv)
		if (!strcmp(json_string_value(json_object_get(kv, "key")), key))
			return json_object_get(kv, "value");
	return NULL;
}

TEST(span_has_the_logfire_log_shape)
{
	struct tevent ev = { EV_HEARTBEAT, 1787313600123456789ull,
			     json_pack("{s:s, s:i, s:f, s:b}", "environment",
				       "dev", "agent_count", 8, "uptime_hours",
				       1.5, "features_enabled", 1) };
	json_t *span = report_span(&ev), *schema;
	const char *trace;

	CHECK(span != NULL);
	CHECK_STR(json_string_value(json_object_get(span, "name")),
		  "deployment.heartbeat");
	CHECK_INT(json_integer_value(json_object_get(span, "kind")), 1);
	CHECK_INT(json_integer_value(json_object_get(span, "flags")), 256);
	CHECK_STR(json_string_value(json_object_get(span, "startTimeUnixNano")),
		  "1787313600123456789");
	CHECK_STR(json_string_value(json_object_get(span, "endTimeUnixNano")),
		  "1787313600123456789");
	trace = json_string_value(json_object_get(span, "traceId"));
	CHECK_INT(strlen(trace), 32);
	/* The first six bytes are the millisecond: 1787313600123 = 0x1a02431367b. */
	CHECK(!strncmp(trace, "01a02431367b", 12));
	CHECK_INT(strlen(json_string_value(json_object_get(span, "spanId"))), 16);
	CHECK_STR(json_string_value(json_object_get(attr(span,
		  "logfire.span_type"), "stringValue")), "log");
	CHECK_STR(json_string_value(json_object_get(attr(span,
		  "logfire.level_num"), "intValue")), "9");
	CHECK_STR(json_string_value(json_object_get(attr(span, "agent_count"),
						    "intValue")), "8");
	CHECK(json_real_value(json_object_get(attr(span, "uptime_hours"),
					      "doubleValue")) == 1.5);
	CHECK(json_is_true(json_object_get(attr(span, "features_enabled"),
					   "boolValue")));
	schema = json_loads(json_string_value(json_object_get(
		attr(span, "logfire.json_schema"), "stringValue")), 0, NULL);
	CHECK_INT(json_object_size(json_object_get(schema, "properties")), 4);
	json_decref(schema);
	json_decref(span);
	json_decref(ev.props);
}

TEST(ids_are_fixed_when_the_event_is_made)
{
	struct tevent ev = { EV_STARTUP, 1787313600123456789ull, json_object() };
	struct tevent back[1];
	json_t *a, *b;
	char *text;
	size_t len, bad;

	CHECK_INT(tevent_assign_ids(&ev), 0);
	a = report_span(&ev);
	b = report_span(&ev);
	/* Encoded twice (a retry): the same span, so copies can be told. */
	CHECK_STR(json_string_value(json_object_get(a, "spanId")),
		  json_string_value(json_object_get(b, "spanId")));
	CHECK_STR(json_string_value(json_object_get(a, "traceId")),
		  json_string_value(json_object_get(b, "traceId")));
	text = spool_format(&ev, 1, &len);
	CHECK_INT(spool_parse(text, len, ev.time_ns + 1, back, 1, &bad), 1);
	CHECK(!memcmp(back[0].span_id, ev.span_id, 8));
	CHECK(!memcmp(back[0].trace_id, ev.trace_id, 16));
	free(text);
	json_decref(back[0].props);
	json_decref(a);
	json_decref(b);
	json_decref(ev.props);
}

TEST(body_batches_spans_under_one_resource)
{
	json_t *res = json_pack("{s:s}", "service.name", "synthorg-shim");
	struct tevent evs[2] = {
		{ EV_SESSION_SUMMARY, 1000000000ull, json_object() },
		{ EV_SHUTDOWN, 1000000001ull, json_pack("{s:b}", "graceful", 1) },
	};
	char *text = report_encode(res, evs, 2);
	json_t *body = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	json_t *spans = json_object_get(json_array_get(json_object_get(
		json_array_get(json_object_get(body, "resourceSpans"), 0),
		"scopeSpans"), 0), "spans");

	CHECK(text != NULL);
	CHECK_INT(json_array_size(spans), 2);
	/* No properties, no schema attribute: as the SDK does. */
	CHECK(attr(json_array_get(spans, 0), "logfire.json_schema") == NULL);
	CHECK(strstr(text, "\"scope\":{\"name\":\"logfire\"") != NULL);
	free(text);
	json_decref(body);
	json_decref(res);
	json_decref(evs[0].props);
	json_decref(evs[1].props);
}

TEST(spool_round_trip_and_bad_lines)
{
	uint64_t now = 1796404881000000000ull;
	struct tevent in[2] = {
		{ EV_HEARTBEAT, now - 1000, json_pack("{s:i}", "agent_count", 2) },
		{ EV_SHUTDOWN, now - 2000, json_pack("{s:b}", "graceful", 0) },
	}, out[8];
	size_t len, bad, n;
	char *text = spool_format(in, 2, &len), *mixed;

	CHECK(text != NULL);
	n = spool_parse(text, len, now, out, 8, &bad);
	CHECK_INT(n, 2);
	CHECK_INT(bad, 0);
	CHECK_INT(out[0].type, EV_HEARTBEAT);
	CHECK_INT(out[1].time_ns, now - 2000);
	CHECK(json_equal(out[0].props, in[0].props));
	/* Ids made at encoding time the first time, then kept. */
	CHECK(!memcmp(out[0].span_id, in[0].span_id, 8) ||
	      !memcmp(in[0].span_id, "\0\0\0\0\0\0\0\0", 8));
	json_decref(out[0].props);
	json_decref(out[1].props);

	mixed = malloc(len + 400);
	snprintf(mixed, len + 400,
		 "garbage\n{\"v\":2}\n"
		 "{\"v\":1,\"event\":\"deployment.nope\",\"time_unix_nano\":\"1\",\"properties\":{}}\n"
		 "{\"v\":1,\"event\":\"deployment.heartbeat\",\"time_unix_nano\":\"5\",\"properties\":{}}\n"
		 "%s", text);
	n = spool_parse(mixed, strlen(mixed), now, out, 8, &bad);
	/* Four bad: garbage, wrong version, unknown event, too old. */
	CHECK_INT(n, 2);
	CHECK_INT(bad, 4);
	json_decref(out[0].props);
	json_decref(out[1].props);
	/* A timestamp from the future is refused too. */
	n = spool_parse(text, len, now - 5000, out, 8, &bad);
	CHECK_INT(n, 0);
	free(mixed);
	free(text);
	json_decref(in[0].props);
	json_decref(in[1].props);
}

TEST(spool_file_write_read)
{
	char path[] = "/tmp/unit-spool-XXXXXX";
	int fd = mkstemp(path);
	size_t len;
	char *back;

	CHECK(fd >= 0);
	CHECK_INT(spool_write(fd, "line one\nline two\n", 18), 0);
	back = spool_read(fd, &len);
	CHECK_INT(len, 18);
	CHECK(back && !memcmp(back, "line one\nline two\n", 18));
	free(back);
	CHECK_INT(spool_write(fd, "", 0), 0);
	CHECK(spool_read(fd, &len) == NULL);
	close(fd);
	unlink(path);
}

TEST(snapshot_routes_keys_to_their_events)
{
	json_t *snap = json_pack("{s:i, s:i, s:s, s:f, s:s, s:i}",
				 "agent_count", 5, "tasks_created", 7,
				 "deployment_id", "spoofed", "uptime_hours", 9.0,
				 "favourite_colour", "blue", "docker_ncpu", 64);
	json_t *hb = json_pack("{s:s, s:f}", "deployment_id", "real",
			       "uptime_hours", 1.0);
	json_t *sum = json_object();

	snapshot_merge(EV_HEARTBEAT, snap, hb);
	CHECK_INT(json_integer_value(json_object_get(hb, "agent_count")), 5);
	CHECK(json_object_get(hb, "tasks_created") == NULL);
	/* The shim's own values are never replaced. */
	CHECK_STR(json_string_value(json_object_get(hb, "deployment_id")), "real");
	CHECK(json_real_value(json_object_get(hb, "uptime_hours")) == 1.0);
	CHECK(json_object_get(hb, "docker_ncpu") == NULL);
	/* Unknown keys go in, for the scrubber to refuse by name. */
	CHECK(json_object_get(hb, "favourite_colour") != NULL);
	snapshot_merge(EV_SESSION_SUMMARY, snap, sum);
	CHECK_INT(json_integer_value(json_object_get(sum, "tasks_created")), 7);
	CHECK(json_object_get(sum, "agent_count") == NULL);
	json_decref(snap);
	json_decref(hb);
	json_decref(sum);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

TEST(snapshot_file_bounds)
{
	char dir[] = "/tmp/unit-snap-XXXXXX", p[256], *big;
	const char *why = NULL;
	json_t *s;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(p, sizeof(p), "%s/s.json", dir);
	CHECK(snapshot_read(p, &why) == NULL);
	CHECK_STR(why, "missing");
	write_file(p, "{\"agent_count\": 3}");
	s = snapshot_read(p, &why);
	CHECK(s && json_integer_value(json_object_get(s, "agent_count")) == 3);
	json_decref(s);
	write_file(p, "[1,2]");
	CHECK(snapshot_read(p, &why) == NULL);
	CHECK_STR(why, "not_an_object");
	write_file(p, "{\"a\":");
	CHECK(snapshot_read(p, &why) == NULL);
	CHECK_STR(why, "not_json");
	big = malloc(SNAPSHOT_MAX_BYTES + 10);
	memset(big, ' ', SNAPSHOT_MAX_BYTES + 9);
	big[0] = '{';
	big[SNAPSHOT_MAX_BYTES + 8] = '}';
	big[SNAPSHOT_MAX_BYTES + 9] = '\0';
	write_file(p, big);
	free(big);
	CHECK(snapshot_read(p, &why) == NULL);
	CHECK_STR(why, "too_large");
	CHECK(snapshot_read(dir, &why) == NULL);
	CHECK_STR(why, "not_a_regular_file");
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	CHECK_INT(system(p), 0);
}

TEST(docker_info_maps_twelve_fields)
{
	static const char body[] =
		"{\"ServerVersion\":\"24.0.7\",\"OperatingSystem\":\"Ubuntu 22.04\","
		"\"OSType\":\"linux\",\"OSVersion\":\"22.04\",\"Architecture\":\"x86_64\","
		"\"KernelVersion\":\"6.1.0\",\"Driver\":\"overlay2\","
		"\"DefaultRuntime\":\"runc\",\"Isolation\":\"\",\"NCPU\":16,"
		"\"MemTotal\":67108864000,\"Runtimes\":{\"runc\":{},\"nvidia\":{}},"
		"\"Name\":\"secret-host\",\"ID\":\"ABCD\",\"DockerRootDir\":\"/var/lib/docker\"}";
	json_t *m = docker_info_map(body, strlen(body));
	char *text;

	CHECK(json_is_true(json_object_get(m, "docker_info_available")));
	CHECK_INT(json_object_size(m), 13);
	CHECK_STR(json_string_value(json_object_get(m, "docker_server_version")),
		  "24.0.7");
	CHECK_INT(json_integer_value(json_object_get(m, "docker_mem_total")),
		  67108864000ll);
	CHECK(json_is_true(json_object_get(m,
		"docker_gpu_runtime_nvidia_available")));
	/* Nothing else of the daemon's answer comes through. */
	text = json_dumps(m, 0);
	CHECK(text && !strstr(text, "secret-host") && !strstr(text, "docker/"));
	free(text);
	json_decref(m);
}

TEST(docker_info_wrong_types_left_out_and_long_strings_cut)
{
	char body[512];
	json_t *m;

	snprintf(body, sizeof(body),
		 "{\"ServerVersion\":7,\"NCPU\":\"16\",\"OSType\":\"%0100d\","
		 "\"Runtimes\":[]}", 0);
	m = docker_info_map(body, strlen(body));
	CHECK(json_is_true(json_object_get(m, "docker_info_available")));
	CHECK(json_object_get(m, "docker_server_version") == NULL);
	CHECK(json_object_get(m, "docker_ncpu") == NULL);
	CHECK(json_object_get(m, "docker_gpu_runtime_nvidia_available") == NULL);
	CHECK_INT(strlen(json_string_value(json_object_get(m, "docker_os_type"))),
		  64);
	json_decref(m);
	m = docker_info_map("[1]", 3);
	CHECK(json_is_false(json_object_get(m, "docker_info_available")));
	CHECK_STR(json_string_value(json_object_get(m,
		"docker_info_unavailable_reason")), "body_not_json_object");
	json_decref(m);
	m = docker_info_map("garbage", 7);
	CHECK_STR(json_string_value(json_object_get(m,
		"docker_info_unavailable_reason")), "body_not_json_object");
	json_decref(m);
}

TEST(token_region_picks_the_base_url)
{
	CHECK_STR(logfire_region_url("pylf_v1_us_abc"),
		  "https://logfire-us.pydantic.dev");
	CHECK_STR(logfire_region_url("pylf_v1_eu_abc"),
		  "https://logfire-eu.pydantic.dev");
	CHECK_STR(logfire_region_url("pylf_v12_eu_abc"),
		  "https://logfire-eu.pydantic.dev");
	CHECK_STR(logfire_region_url("pylf_v1_xx_abc"),
		  "https://logfire-us.pydantic.dev");
	CHECK_STR(logfire_region_url("old-style-token"),
		  "https://logfire-us.pydantic.dev");
	CHECK_STR(logfire_region_url("pylf_vx_eu_abc"),
		  "https://logfire-us.pydantic.dev");
}

TEST(plain_build_carries_the_sentinel)
{
	char tok[EMBED_TOKEN_SIZE];

	CHECK(!embed_token(tok));
	CHECK_STR(tok, EMBED_SENTINEL);
	CHECK(ca_bundle_len > 1000);
	CHECK(strstr(ca_bundle, "BEGIN CERTIFICATE") != NULL);
	CHECK_INT(ca_bundle[ca_bundle_len], 0);
}

TEST(retry_after_forms)
{
	CHECK_INT(deliver_retry_after_ms("3", 0), 3000);
	CHECK_INT(deliver_retry_after_ms("0", 0), 0);
	CHECK_INT(deliver_retry_after_ms("", 0), -1);
	CHECK_INT(deliver_retry_after_ms("-1", 0), -1);
	CHECK_INT(deliver_retry_after_ms("3s", 0), -1);
	/* Past a day, a day: beyond any budget, never an overflow. */
	CHECK_INT(deliver_retry_after_ms("99999999", 0), 86400000);
	CHECK_INT(deliver_retry_after_ms("99999999999999999999999", 0),
		  86400000);
	CHECK_INT(deliver_retry_after_ms("Fri, 31 Dec 9999 23:59:59 GMT", 0),
		  86400000);
	/* Sun, 06 Nov 1994 08:49:37 GMT is 784111777. */
	CHECK_INT(deliver_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT",
					 784111770), 7000);
	CHECK_INT(deliver_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT",
					 784111800), 0);
	CHECK_INT(deliver_retry_after_ms("not a date", 0), -1);
}
