/*
 * The opt-in telemetry thread.
 *
 * The init thread decides, sets up libcurl, and starts one thread with
 * every signal blocked (inherited from the init's mask), so it never
 * takes a signal meant for the child.  The thread prepares what needs the
 * file system (deployment ID, spool), enters its seccomp filter, and only
 * then talks to Docker and Logfire.  An eventfd tells it the child has
 * exited; the init waits for it no longer than the shutdown budget.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deliver.h"
#include "deployid.h"
#include "docker_probe.h"
#include "embed.h"
#include "envparse.h"
#include "log.h"
#include "report.h"
#include "rnd.h"
#include "sandbox.h"
#include "scrub.h"
#include "snapshot.h"
#include "spool.h"
#include "tconfig.h"
#include "telemetry.h"
#include "version.h"

extern char **environ;

/* How long the deployment ID may take, whatever the volume does. */
#define DEPLOYID_DEADLINE_MS 5000
/* How long a startup or heartbeat batch may keep retrying. */
#define RUN_DELIVERY_MS 30000
/* Undelivered events kept in memory (and in the spool). */
#define PENDING_MAX SPOOL_MAX_EVENTS
/* The thread's stack: OpenSSL and curl need more than musl's 128 KiB. */
#define THREAD_STACK (512 * 1024)
/* Past the budget, the init waits this much more for a clean join. */
#define JOIN_SLACK_MS 50

struct telemetry {
	pthread_t thread;
	int wake_fd;			/* eventfd: the child has exited */
	struct telemetry_config cfg;
	char token[EMBED_TOKEN_SIZE];
	char base_url[EMBED_URL_SIZE];
	struct deliver *deliver;
	bool pid1;
	bool selftest;
	int64_t boot_ms;		/* CLOCK_MONOTONIC at start */

	/* Written by the init before the eventfd, read by the thread after. */
	struct shim_outcome outcome;
	int64_t exit_deadline_ms;
	/*
	 * How long work under way may go on once the child has exited: half
	 * the budget, so that the shutdown batch keeps the other half.
	 */
	atomic_llong linger_until_ms;

	/* The thread's own. */
	json_t *resource;
	char deployment_id[UUID_TEXT_LEN + 1];
	int spool_fd;
	bool spool_dirty;
	struct tevent pending[PENDING_MAX];
	size_t npending;
	bool resource_printed;
};

/* The deployment ID and spool, prepared off-thread under a hard deadline. */
struct prep {
	char data_dir[4096];
	bool want_spool;
	int64_t deadline_ms;
	struct deployid id;
	int spool_fd;
	const char *spool_why;
	atomic_int state;		/* PREP_RUNNING, _DONE, _ABANDONED */
};

enum { PREP_RUNNING, PREP_DONE, PREP_ABANDONED };

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Python's datetime.now(timezone.utc).isoformat(), as the reporter sends. */
static void iso_time(uint64_t ns, char *out, size_t size)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06u+00:00",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (unsigned)(ns % 1000000000u / 1000));
}

static bool regular_file(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static void *prep_run(void *arg)
{
	struct prep *p = arg;
	int dirfd, fd;

	dirfd = open(p->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		memset(&p->id, 0, sizeof(p->id));
		p->id.err = errno;
		p->id.source = DEPLOYID_GENERATED;
		p->id.error = "data_dir_unusable";
		rnd_uuid(p->id.id);
		p->spool_why = "no_data_dir";
	} else {
		deployid_get(dirfd, p->deadline_ms, &p->id);
		if (p->want_spool) {
			fd = openat(dirfd, SPOOL_FILE, O_RDWR | O_CREAT |
				    O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
			if (fd >= 0 && !regular_file(fd)) {
				close(fd);
				fd = -1;
			}
			/* Replicas on one volume: one spool keeper at a time. */
			if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
				close(fd);
				fd = -1;
				p->spool_why = "held_by_a_peer";
			} else if (fd < 0) {
				p->spool_why = "cannot_open";
			}
			p->spool_fd = fd;
		}
		close(dirfd);
	}
	/* The waiter gave up on us: nobody else will free this. */
	if (atomic_exchange(&p->state, PREP_DONE) == PREP_ABANDONED) {
		if (p->spool_fd >= 0)
			close(p->spool_fd);
		free(p);
	}
	return NULL;
}

/* Run prep_run on a helper thread, waiting for it no longer than needed. */
static void prepare(struct telemetry *t)
{
	struct prep *p = calloc(1, sizeof(*p));
	struct timespec until;
	pthread_t th;
	int64_t ms;
	char why[128];

	t->spool_fd = -1;
	if (!p || rnd_uuid(t->deployment_id) < 0) {
		free(p);
		return;
	}
	snprintf(p->data_dir, sizeof(p->data_dir), "%s", t->cfg.data_dir);
	p->want_spool = !t->cfg.dry_run;
	p->deadline_ms = mono_ms() + DEPLOYID_DEADLINE_MS;
	p->spool_fd = -1;
	atomic_init(&p->state, PREP_RUNNING);
	if (pthread_create(&th, NULL, prep_run, p) != 0) {
		free(p);
		log_event(LOG_WARNING, "telemetry.deployment_id.unavailable",
			  "reason=no_thread using_generated_id=true");
		return;
	}
	/* A hung volume must not hold us: the join has a hard deadline. */
	clock_gettime(CLOCK_REALTIME, &until);
	ms = DEPLOYID_DEADLINE_MS + 100;
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	if (pthread_timedjoin_np(th, NULL, &until) != 0) {
		/* XXX: the helper may still finish later on a hung volume and
		 * write the ID file; it frees its own state, nobody uses it. */
		pthread_detach(th);
		if (atomic_exchange(&p->state, PREP_ABANDONED) == PREP_RUNNING) {
			log_event(LOG_WARNING,
				  "telemetry.deployment_id.unavailable",
				  "reason=deadline using_generated_id=true");
			return;
		}
		/* It finished as we gave up: its results stand. */
	}
	memcpy(t->deployment_id, p->id.id, sizeof(t->deployment_id));
	if (p->id.source == DEPLOYID_GENERATED)
		log_event(LOG_WARNING, "telemetry.deployment_id.unavailable",
			  "reason=%s err=%s using_generated_id=true",
			  p->id.error,
			  log_quote(why, sizeof(why),
				    p->id.err ? strerror(p->id.err) : "none"));
	else
		log_event(LOG_DEBUG, "telemetry.deployment_id", "source=%s",
			  p->id.source == DEPLOYID_CREATED ? "created" :
			  p->id.source == DEPLOYID_REPAIRED ? "repaired" :
			  "loaded");
	if (p->id.source == DEPLOYID_REPAIRED)
		log_event(LOG_WARNING, "telemetry.deployment_id.repaired",
			  "file=%s", DEPLOYID_FILE);
	t->spool_fd = p->spool_fd;
	if (p->want_spool && p->spool_fd < 0)
		log_event(LOG_DEBUG, "telemetry.spool.off", "reason=%s",
			  p->spool_why ? p->spool_why : "unknown");
	free(p);
}

static json_t *build_resource(const struct telemetry *t)
{
	char instance[UUID_TEXT_LEN + 1];

	if (rnd_uuid(instance) < 0)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			 "service.name", "synthorg-shim",
			 "service.version", SHIM_VERSION,
			 "deployment.environment.name", t->cfg.environment,
			 "service.instance.id", instance,
			 "os.type", "linux",
			 "telemetry.sdk.name", "synthorg-shim",
			 "telemetry.sdk.language", "c",
			 "telemetry.sdk.version", SHIM_VERSION);
}

/* A new event carrying the envelope every record has. */
static struct tevent new_event(const struct telemetry *t, enum event_type type)
{
	struct tevent ev = { .type = type, .time_ns = real_ns() };
	char when[64];

	iso_time(ev.time_ns, when, sizeof(when));
	tevent_assign_ids(&ev);
	ev.props = json_pack("{s:s, s:s, s:s, s:s, s:s}",
			     "event_timestamp", when,
			     "deployment_id", t->deployment_id,
			     "synthorg_version", SHIM_VERSION,
			     "os_platform", "Linux",
			     "environment", t->cfg.environment);
	return ev;
}

static double uptime_hours(const struct telemetry *t)
{
	double h = (double)(mono_ms() - t->boot_ms) / 3600000.0;

	/* Four decimals (a third of a second) say enough. */
	return (double)(int64_t)(h * 10000.0 + 0.5) / 10000.0;
}

static void merge_snapshot(const struct telemetry *t, struct tevent *ev)
{
	const char *why = NULL;
	char path[160];
	json_t *snap;

	if (!t->cfg.snapshot_path)
		return;
	snap = snapshot_read(t->cfg.snapshot_path, &why);
	if (!snap) {
		/* Missing is normal before the app writes its first one. */
		log_event(strcmp(why, "missing") ? LOG_WARNING : LOG_DEBUG,
			  "telemetry.snapshot.unusable", "path=%s reason=%s",
			  log_quote(path, sizeof(path), t->cfg.snapshot_path),
			  why);
		return;
	}
	snapshot_merge(ev->type, snap, ev->props);
	json_decref(snap);
}

/* Scrub EV and queue it, or drop it whole with one warning. */
static void enqueue(struct telemetry *t, struct tevent ev)
{
	struct scrub_verdict v;
	char key[160];

	if (!ev.props)
		return;
	if (!scrub_event(ev.type, ev.props, &v)) {
		log_event(LOG_WARNING, "telemetry.event.dropped",
			  "event_type=%s key=%s reason=%s", event_name(ev.type),
			  log_quote(key, sizeof(key), v.key),
			  v.reason);
		json_decref(ev.props);
		return;
	}
	if (t->npending == PENDING_MAX) {
		/* Bounded: the oldest undelivered event goes first. */
		log_event(LOG_WARNING, "telemetry.event.dropped",
			  "event_type=%s key=\"\" reason=queue_full",
			  event_name(t->pending[0].type));
		json_decref(t->pending[0].props);
		memmove(t->pending, t->pending + 1,
			(PENDING_MAX - 1) * sizeof(t->pending[0]));
		t->npending--;
	}
	t->pending[t->npending++] = ev;
}

static void clear_pending(struct telemetry *t)
{
	size_t i;

	for (i = 0; i < t->npending; i++)
		json_decref(t->pending[i].props);
	t->npending = 0;
}

/* Write the pending events to the spool (or empty it when none). */
static void save_spool(struct telemetry *t)
{
	size_t len = 0;
	char *text;

	if (t->spool_fd < 0 || (!t->npending && !t->spool_dirty))
		return;
	text = spool_format(t->pending, t->npending, &len);
	if (!text || spool_write(t->spool_fd, text, len) < 0)
		log_event(LOG_WARNING, "telemetry.spool.write_failed",
			  "events=%zu err=\"%s\"", t->npending, strerror(errno));
	else
		t->spool_dirty = t->npending > 0;
	free(text);
}

static void print_dry_run(struct telemetry *t)
{
	char *text;
	json_t *span;
	size_t i;

	if (!t->resource_printed) {
		text = json_dumps(t->resource, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (text)
			log_always_payload(LOG_INFO, "telemetry.dry_run",
					   "record=resource attributes=", text);
		free(text);
		t->resource_printed = true;
	}
	for (i = 0; i < t->npending; i++) {
		char fields[96];

		span = report_span(&t->pending[i]);
		text = span ? json_dumps(span, JSON_COMPACT |
					 JSON_PRESERVE_ORDER |
					 JSON_REAL_PRECISION(10)) : NULL;
		snprintf(fields, sizeof(fields), "record=%s span=",
			 event_name(t->pending[i].type));
		if (text)
			log_always_payload(LOG_INFO, "telemetry.dry_run",
					   fields, text);
		free(text);
		json_decref(span);
	}
	clear_pending(t);
}

/* Send everything pending as one batch. */
static enum deliver_result flush(struct telemetry *t, int64_t deadline_ms,
				 int wake_fd)
{
	enum deliver_result r;
	size_t n = t->npending;
	char *body;

	if (!n)
		return DELIVER_OK;
	if (t->cfg.dry_run) {
		print_dry_run(t);
		return DELIVER_OK;
	}
	body = report_encode(t->resource, t->pending, n);
	if (!body) {
		log_event(LOG_WARNING, "telemetry.delivery.failed",
			  "error_type=encode events=%zu", n);
		return DELIVER_FAILED;
	}
	r = deliver_post(t->deliver, body, strlen(body), deadline_ms, wake_fd,
			 &t->linger_until_ms);
	free(body);
	switch (r) {
	case DELIVER_OK:
		log_event(LOG_DEBUG, "telemetry.delivered", "events=%zu", n);
		clear_pending(t);
		break;
	case DELIVER_REJECTED:
		/* Sent again it would be refused again. */
		clear_pending(t);
		break;
	case DELIVER_FAILED:
		log_event(LOG_WARNING, "telemetry.delivery.failed",
			  "error_type=%s events=%zu kept=%s",
			  deliver_last_error(t->deliver), n,
			  t->spool_fd >= 0 ? "spool" : "memory");
		break;
	case DELIVER_ABORTED:
		break;
	}
	save_spool(t);
	return r;
}

/* What the previous boot could not deliver goes out first. */
static void load_spool(struct telemetry *t)
{
	struct tevent evs[SPOOL_MAX_EVENTS];
	size_t len, n, bad, i;
	char *text;

	if (t->spool_fd < 0)
		return;
	text = spool_read(t->spool_fd, &len);
	if (!text)
		return;
	t->spool_dirty = true;
	n = spool_parse(text, len, real_ns(), evs, SPOOL_MAX_EVENTS, &bad);
	free(text);
	if (bad)
		log_event(LOG_WARNING, "telemetry.spool.skipped",
			  "lines=%zu reason=malformed_or_stale", bad);
	for (i = 0; i < n; i++)
		enqueue(t, evs[i]);
	log_event(LOG_INFO, "telemetry.spool.loaded", "events=%zu", n);
}

static void send_startup(struct telemetry *t)
{
	struct tevent ev = new_event(t, EV_STARTUP);
	json_t *docker;

	docker = docker_probe(DOCKER_SOCKET, DOCKER_PROBE_MS, t->wake_fd,
			      &t->linger_until_ms);
	if (ev.props && docker)
		json_object_update(ev.props, docker);
	json_decref(docker);
	if (ev.props)
		json_object_set_new(ev.props, "init_pid1",
				    json_boolean(t->pid1));
	load_spool(t);
	enqueue(t, ev);
	flush(t, mono_ms() + RUN_DELIVERY_MS, t->wake_fd);
}

static void send_heartbeat(struct telemetry *t)
{
	struct tevent ev = new_event(t, EV_HEARTBEAT);

	if (ev.props) {
		json_object_set_new(ev.props, "uptime_hours",
				    json_real(uptime_hours(t)));
		merge_snapshot(t, &ev);
	}
	enqueue(t, ev);
	flush(t, mono_ms() + RUN_DELIVERY_MS, t->wake_fd);
}

static void send_shutdown(struct telemetry *t)
{
	const struct shim_outcome *o = &t->outcome;
	struct tevent sum = new_event(t, EV_SESSION_SUMMARY);
	struct tevent end = new_event(t, EV_SHUTDOWN);
	double up = uptime_hours(t);
	int st = o->wstatus;

	if (sum.props) {
		json_object_set_new(sum.props, "uptime_hours", json_real(up));
		json_object_set_new(sum.props, "signals_forwarded",
				    json_integer((json_int_t)o->signals_forwarded));
		json_object_set_new(sum.props, "zombies_reaped",
				    json_integer((json_int_t)o->zombies_reaped));
		json_object_set_new(sum.props, "descendants_terminated",
				    json_integer((json_int_t)o->descendants_terminated));
		json_object_set_new(sum.props, "descendants_killed",
				    json_integer((json_int_t)o->descendants_killed));
		merge_snapshot(t, &sum);
	}
	if (end.props) {
		json_object_set_new(end.props, "uptime_hours", json_real(up));
		json_object_set_new(end.props, "graceful",
				    json_boolean(o->graceful));
		if (WIFEXITED(st))
			json_object_set_new(end.props, "child_exit_code",
					    json_integer(WEXITSTATUS(st)));
		else
			json_object_set_new(end.props, "child_exit_signal",
					    json_integer(WTERMSIG(st)));
		if (o->oom_kills >= 0)
			json_object_set_new(end.props, "child_oom_killed",
					    json_boolean(o->oom_kills > 0));
		json_object_set_new(end.props, "shim_exit_status",
				    json_integer(o->exit_status));
	}
	enqueue(t, sum);
	enqueue(t, end);
	/* Written ahead: if the budget runs out mid-send, the spool has them. */
	save_spool(t);
	flush(t, t->exit_deadline_ms, -1);
}

/* Sleep until the next heartbeat or the child's exit: true on the exit. */
static bool wait_next(struct telemetry *t, int64_t next_ms)
{
	struct pollfd p = { .fd = t->wake_fd, .events = POLLIN };
	int64_t left;

	for (;;) {
		left = next_ms - mono_ms();
		if (left <= 0)
			return false;
		/* One long sleep: no wake-up between heartbeats. */
		if (poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left) > 0 &&
		    (p.revents & POLLIN))
			return true;
	}
}

static void *run(void *arg)
{
	struct telemetry *t = arg;
	struct scrub_verdict v = { .reason = NULL };
	uint64_t seed = 0, one;
	int64_t next;
	int rc;

	/* A name to find this thread by in /proc; prctl, so no file opened. */
	pthread_setname_np(pthread_self(), "shim-telemetry");
	/* jansson would read /dev/urandom for its hash seed: give it one. */
	rnd_bytes(&seed, sizeof(seed));
	json_object_seed((size_t)seed | 1);
	prepare(t);
	t->resource = build_resource(t);
	if (!t->resource || !scrub_resource(t->resource, &v)) {
		log_event(LOG_WARNING, "telemetry.resource.dropped",
			  "key=%s reason=%s", t->resource ? v.key : "",
			  t->resource ? v.reason : "out_of_memory");
		goto out;
	}
	rc = sandbox_enter();
	if (rc < 0) {
		/* Without its filter the thread sends nothing at all. */
		log_event(LOG_WARNING, "telemetry.sandbox.failed",
			  "err=\"%s\" sending=none", strerror(-rc));
		goto out;
	}
	if (t->selftest)
		sandbox_selftest();
	send_startup(t);
	for (next = t->boot_ms + (int64_t)t->cfg.heartbeat_ms;;
	     next += (int64_t)t->cfg.heartbeat_ms) {
		if (wait_next(t, next))
			break;
		send_heartbeat(t);
	}
	while (read(t->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	send_shutdown(t);
out:
	clear_pending(t);
	return NULL;
}

/* The one lifecycle line for the cases where no thread starts. */
static struct telemetry *disabled(enum telemetry_optin optin)
{
	switch (optin) {
	case OPTIN_INVALID:
		log_event(LOG_WARNING, "config.invalid",
			  "variable=SYNTHORG_TELEMETRY_ENABLED reason=not_true_or_false using=off");
		log_always(LOG_INFO, "telemetry.disabled", "reason=invalid_opt_in");
		break;
	case OPTIN_DO_NOT_TRACK:
		if (parse_flag(getenv("DO_NOT_TRACK")) == FLAG_INVALID)
			log_event(LOG_WARNING, "config.invalid",
				  "variable=DO_NOT_TRACK reason=not_true_or_false using=do_not_track");
		log_always(LOG_INFO, "telemetry.disabled", "reason=do_not_track");
		break;
	default:
		log_always(LOG_INFO, "telemetry.disabled", "reason=not_opted_in");
		break;
	}
	return NULL;
}

/*
 * SSL_CERT_FILE must name a readable regular file: anything else (missing,
 * a directory, a FIFO that would block the thread) is reported once, by
 * name, and the embedded bundle is used instead.
 */
static void check_cert_file(struct telemetry_config *tc)
{
	struct stat st;
	const char *why = NULL;
	int fd;

	if (!tc->ssl_cert_file)
		return;
	fd = open(tc->ssl_cert_file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		why = errno == ENOENT ? "missing" : "unreadable";
	else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		why = "not_a_regular_file";
	else if (st.st_size == 0)
		why = "empty";
	if (fd >= 0)
		close(fd);
	if (!why)
		return;
	log_event(LOG_WARNING, "config.invalid",
		  "variable=SSL_CERT_FILE reason=%s using=embedded_bundle", why);
	tc->ssl_cert_file = NULL;
}

static const char *setup(struct telemetry *t)
{
	struct deliver_opts o = {
		.base_url = t->base_url,
		.token = t->token,
		.ssl_cert_file = t->cfg.ssl_cert_file,
		.ca_blob = ca_bundle,
		.ca_len = ca_bundle_len,
	};
	const char *why = NULL;

	/* No OpenSSL configuration file is ever read: none ships in scratch. */
	if (!OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL))
		return "openssl_init_failed";
	/* Before any thread exists: curl_global_init is not thread-safe. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return "curl_global_init_failed";
	if (!t->cfg.dry_run) {
		t->deliver = deliver_new(&o, &why);
		if (!t->deliver)
			return why;
	}
	t->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (t->wake_fd < 0)
		return "eventfd_failed";
	return NULL;
}

static const char *spawn_thread(struct telemetry *t)
{
	pthread_attr_t attr;
	int rc;

	if (pthread_attr_init(&attr) != 0)
		return "thread_attr_failed";
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	rc = pthread_create(&t->thread, &attr, run, t);
	pthread_attr_destroy(&attr);
	return rc == 0 ? NULL : "thread_create_failed";
}

static const char *env_get(const char *name)
{
	return getenv(name);
}

void telemetry_no_app(void)
{
	enum telemetry_optin optin = tconfig_optin(env_get);

	/* The boot's one lifecycle line, even when there is nothing to run. */
	if (optin != OPTIN_ON)
		disabled(optin);
	else
		log_always(LOG_INFO, "telemetry.disabled",
			   "reason=app_not_started");
}

struct telemetry *telemetry_start(bool pid1)
{
	enum telemetry_optin optin = tconfig_optin(env_get);
	char tag[ENV_TAG_MAX * 4 + 16];
	struct telemetry *t;
	const char *why;

	if (optin != OPTIN_ON)
		return disabled(optin);
	t = calloc(1, sizeof(*t));
	if (!t) {
		log_always(LOG_WARNING, "telemetry.report.failed",
			   "error_type=out_of_memory");
		return NULL;
	}
	t->wake_fd = -1;
	if (!embed_token(t->token)) {
		log_always(LOG_ERROR, "telemetry.token.missing",
			   "hint=\"this build carries no Logfire token; rebuild with scripts/embed-token to report\"");
		free(t);
		return NULL;
	}
	tconfig_parse(&t->cfg, env_get, environ);
	check_cert_file(&t->cfg);
	embed_base_url(t->token, t->base_url);
	t->pid1 = pid1;
	switch (parse_flag(getenv("SYNTHORG_TELEMETRY_SANDBOX_SELFTEST"))) {
	case FLAG_TRUE:
		t->selftest = true;
		break;
	case FLAG_INVALID:
		log_event(LOG_WARNING, "config.invalid",
			  "variable=SYNTHORG_TELEMETRY_SANDBOX_SELFTEST reason=not_true_or_false using=default");
		break;
	default:
		break;
	}
	t->boot_ms = mono_ms();
	why = setup(t);
	if (!why)
		why = spawn_thread(t);
	if (why) {
		log_always(LOG_WARNING, "telemetry.report.failed",
			   "error_type=%s", why);
		deliver_free(t->deliver);
		if (t->wake_fd >= 0)
			close(t->wake_fd);
		memset(t->token, 0, sizeof(t->token));
		free(t);
		return NULL;
	}
	log_always(LOG_INFO, "telemetry.reporter.initialized",
		   "environment=%s environment_source=%s heartbeat_ms=%llu budget_ms=%u dry_run=%s",
		   log_quote(tag, sizeof(tag), t->cfg.environment),
		   t->cfg.environment_source,
		   (unsigned long long)t->cfg.heartbeat_ms, t->cfg.budget_ms,
		   t->cfg.dry_run ? "true" : "false");
	return t;
}

void telemetry_child_exited(struct telemetry *t, const struct shim_outcome *o)
{
	uint64_t one = 1;

	if (!t)
		return;
	t->outcome = *o;
	t->exit_deadline_ms = mono_ms() + t->cfg.budget_ms;
	atomic_store(&t->linger_until_ms, mono_ms() + t->cfg.budget_ms / 2);
	/* The eventfd write orders the stores above before the thread's read. */
	while (write(t->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

void telemetry_finish(struct telemetry *t)
{
	struct timespec until;
	int64_t left;

	if (!t)
		return;
	left = t->exit_deadline_ms + JOIN_SLACK_MS - mono_ms();
	if (left < 0)
		left = 0;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += left / 1000;
	until.tv_nsec += (left % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	if (pthread_timedjoin_np(t->thread, NULL, &until) != 0)
		log_event(LOG_WARNING, "telemetry.budget.exhausted",
			  "budget_ms=%u undelivered=%s", t->cfg.budget_ms,
			  "spooled_if_possible");
	/* The process ends next: the thread and its memory go with it. */
}
