// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu-smi: list the IONPU cards of this system and show what each reports;
 * show, make and clear their calibration records (docs/calibration.md).
 *
 * Listing is read-only, so it is safe to run anywhere, including from a
 * busybox initramfs: that is why it builds static and needs nothing but
 * sysfs and the device nodes.  Calibrating needs CAP_SYS_ADMIN.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ionpu/ionpu.h>

#include "ionpu_cdi.h"
#include "ionpu_exit.h"
#include "ionpu_health.h"
#include "ionpu_json.h"

enum command {
	CMD_LIST,
	CMD_CALIB,     /* show the calibration record */
	CMD_CALIBRATE, /* scan tiles and write it */
	CMD_CDI,       /* write a Container Device Interface spec */
};

enum output_format {
	OUT_HUMAN,
	OUT_JSON,
	OUT_PROMETHEUS,
};

struct options {
	enum command cmd;
	bool query;
	enum output_format format;
	double loop_seconds; /* 0: show once */
	const char *id;
	const char *sysfs_root;
	/* calib and calibrate */
	uint64_t tiles; /* 0: all */
	bool dry_run;
	bool clear;
	unsigned long entries;
	const char *output; /* cdi: the spec's file, NULL for stdout */
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ionpu-smi [OPTION]...\n"
		"       ionpu-smi calib [-i CARD] [-n N] [--clear]\n"
		"       ionpu-smi calibrate [-i CARD] [-n N] [--tiles LIST] [--dry-run]\n"
		"       ionpu-smi cdi [-i CARD] [-o FILE.json]\n"
		"List the IONPU neuromorphic accelerator cards of this system.\n"
		"\n"
		"  -q, --query        detailed view of each card, asking the driver too\n"
		"  -i, --id=CARD      only CARD: its index (0) or PCI address (0000:00:03.0)\n"
		"  -j, --json         the view as JSON, one line (docs/tools.md)\n"
		"      --prometheus   the counters in Prometheus text format\n"
		"  -l, --loop=SECONDS show the view again every SECONDS until interrupted\n"
		"      --sysfs=DIR    read sysfs below DIR instead of /sys\n"
		"  -V, --version      show the versions and exit\n"
		"  -h, --help         show this help and exit\n"
		"\n"
		"calib shows each card's calibration record: whom and when it was made for,\n"
		"the tiles scanned and the stuck devices it lists (the first N, default 10).\n"
		"With --clear it blanks the record (needs CAP_SYS_ADMIN).\n"
		"\n"
		"calibrate scans tiles of one card (-i, needed when there are several) for\n"
		"stuck devices and writes the record.  It needs CAP_SYS_ADMIN and free\n"
		"tiles; it overwrites the weights on them and programs them back as close\n"
		"as the card allows.  --tiles takes a list such as 0,3,8-11 (default: all);\n"
		"--dry-run scans but leaves the record alone.  -n N shows N of the stuck\n"
		"devices found.\n"
		"\n"
		"cdi writes a Container Device Interface spec of the cards the driver\n"
		"serves (or CARD), to stdout or to FILE.json (for /etc/cdi), so that a\n"
		"container runtime hands a card over by name: " IONPU_CDI_KIND
		"=0, by\n"
		"PCI address, or all.\n"
		"\n"
		"Exit status: 0 if all went well, 1 on an error, 2 on a usage error, 3 if no\n"
		"card was found or without the access or privilege it needs, 4 when a tile\n"
		"to scan is in use.\n");
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

static const char *or_dash(const char *s)
{
	return s[0] ? s : "-";
}

static bool card_matches(const struct ionpu_card *card, const char *id)
{
	char index[16];
	/* A short address "bb:ss.f" names domain 0000. */
	const char *short_address = strncmp(card->pci_address, "0000:", 5) ?
					    NULL :
					    card->pci_address + 5;

	snprintf(index, sizeof(index), "%d", card->index);
	return (card->index >= 0 && !strcmp(id, index)) ||
	       !strcasecmp(id, card->pci_address) ||
	       (short_address && !strcasecmp(id, short_address));
}

/*
 * Whether the ionpu module is loaded: it has a /sys/module entry, or at
 * least its class (a driver built in without parameters has no module
 * entry).
 */
static bool module_loaded(const char *sysfs_root)
{
	const char *root = sysfs_root ? sysfs_root : "/sys";
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/module/ionpu", root);
	if (!access(path, F_OK))
		return true;
	snprintf(path, sizeof(path), "%s/class/ionpu", root);
	return !access(path, F_OK);
}

static void print_table(const struct ionpu_card *cards, size_t count,
			const char *id, bool loaded)
{
	size_t driverless = 0;

	printf("%-4s %-13s %-12s %-16s %5s %-5s %s\n", "IDX", "PCI ADDRESS",
	       "NODE", "SERIAL", "TILES", "HW", "DRIVER BOUND");
	for (size_t i = 0; i < count; i++) {
		const struct ionpu_card *c = &cards[i];
		char index[16] = "-", tiles[16] = "-", hw[16] = "-";

		if (id && !card_matches(c, id))
			continue;
		if (c->driver_bound) {
			snprintf(index, sizeof(index), "%d", c->index);
			snprintf(tiles, sizeof(tiles), "%" PRIu32, c->tiles);
			snprintf(hw, sizeof(hw), "%u.%u", c->hw_version_major,
				 c->hw_version_minor);
			printf("%-4s %-13s %-12s %-16s %5s %-5s yes\n", index,
			       c->pci_address, c->node, or_dash(c->serial),
			       tiles, hw);
		} else {
			if (!c->driver[0])
				driverless++;
			printf("%-4s %-13s %-12s %-16s %5s %-5s no (%s)\n",
			       index, c->pci_address, "-", "-", tiles, hw,
			       c->driver[0] ? c->driver : "no driver");
		}
	}
	if (!loaded)
		printf("\nThe ionpu module is not loaded: no card is served (modprobe ionpu).\n");
	else if (driverless)
		printf("\n%zu card(s) with no driver, though the ionpu module is loaded.\n",
		       driverless);
}

static const struct {
	uint32_t bit;
	const char *name;
} cap_names[] = {
	{ IONPU_DEV_CAP_FLR, "FLR" },
	{ IONPU_DEV_CAP_TEST_IRQ, "TEST_IRQ" },
	{ IONPU_DEV_CAP_QUEUES, "QUEUES" },
	{ IONPU_DEV_CAP_READOUT, "READOUT" },
	{ IONPU_DEV_CAP_NVSTORE, "NVSTORE" },
	{ IONPU_DEV_CAP_FAULTS, "FAULTS" },
	{ IONPU_DEV_CAP_TILE_RESET, "TILE_RESET" },
	{ IONPU_DEV_CAP_SGL, "SGL" },
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The activity counters as each view names them; @scale takes the card's
 * unit (ns, fJ) to the SI one the views show.
 */
static const struct counter {
	size_t offset;
	double scale;
	const char *json;
	const char *label;
	const char *metric;
	const char *help;
} counters[] = {
	{ offsetof(struct ionpu_activity, timesteps), 1, "timesteps",
	  "Timesteps", "ionpu_timesteps_total", "Time steps run." },
	{ offsetof(struct ionpu_activity, spikes_in), 1, "spikes_in",
	  "Spikes in", "ionpu_spikes_in_total",
	  "Input spike events given by the host." },
	{ offsetof(struct ionpu_activity, spikes_out), 1, "spikes_out",
	  "Spikes out", "ionpu_spikes_out_total",
	  "Neuron spikes, routed to the host or not." },
	{ offsetof(struct ionpu_activity, synaptic_events), 1,
	  "synaptic_events", "Synaptic events", "ionpu_synaptic_events_total",
	  "Crossbar cells read by spike events." },
	{ offsetof(struct ionpu_activity, program_pulses), 1, "program_pulses",
	  "Programming pulses", "ionpu_program_pulses_total",
	  "SET and RESET pulses applied to cells." },
	{ offsetof(struct ionpu_activity, busy_ns), 1e-9, "busy_s",
	  "Busy (modeled, s)", "ionpu_busy_seconds_total",
	  "Modeled time the fabric was busy, in seconds." },
	{ offsetof(struct ionpu_activity, energy_fj), 1e-15, "energy_j",
	  "Energy (modeled, J)", "ionpu_energy_joules_total",
	  "Modeled energy, in joules (docs/physics.md)." },
};

static uint64_t counter_value(const struct ionpu_activity *act,
			      const struct counter *c)
{
	uint64_t v;

	memcpy(&v, (const char *)act + c->offset, sizeof(v));
	return v;
}

/* A counter's value in its view's unit: a whole count, or a real. */
static void print_counter(const struct ionpu_activity *act,
			  const struct counter *c)
{
	uint64_t v = counter_value(act, c);

	if (c->scale == 1)
		printf("%" PRIu64, v);
	else
		printf("%.15g", (double)v * c->scale);
}

/*
 * The card's mean modeled power while busy, energy over busy time, in W;
 * false before it was ever busy.  The card models no temperature: this is
 * the figure that stands for its heat.
 */
static bool busy_power(const struct ionpu_activity *act, double *watts)
{
	if (!act->busy_ns)
		return false;
	*watts = (double)act->energy_fj * 1e-15 / ((double)act->busy_ns * 1e-9);
	return true;
}

/* What the driver says of one card, when it could be asked. */
struct driver_view {
	bool answered;
	struct ionpu_dev_info info;
	bool counted; /* false: the card's counters need CAP_PERFMON */
	struct ionpu_activity activity;
	struct ionpu_calib_info calib; /* the record's header */
	char error[256];	       /* why it could not, when not */
};

static void ask_driver(const struct ionpu_card *card, struct driver_view *view)
{
	struct ionpu_dev *dev;
	int err;

	memset(view, 0, sizeof(*view));
	if (!card->driver_bound) {
		snprintf(view->error, sizeof(view->error),
			 "the ionpu driver does not serve the card");
		return;
	}
	if (ionpu_open(card->node, &dev))
		goto err_unavailable;
	if (ionpu_info(dev, &view->info))
		goto err_close;
	/* The whole card's work is not every user's to see. */
	err = ionpu_activity(dev, &view->activity);
	if (err && err != -EPERM)
		goto err_close;
	view->counted = !err;
	if (ionpu_calib_read(dev, &view->calib, NULL, NULL))
		goto err_close;
	ionpu_close(dev);
	view->answered = true;
	return;

err_close:
	ionpu_close(dev);
err_unavailable:
	snprintf(view->error, sizeof(view->error), "%s", ionpu_last_error());
}

/* UTC, as the JSON's times: YYYY-MM-DDThh:mm:ssZ. */
static void utc_time(int64_t when, char *buf, size_t size)
{
	time_t t = (time_t)when;
	struct tm tm;

	buf[0] = '\0';
	if (gmtime_r(&t, &tm))
		strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int popcount64(uint64_t v)
{
	int n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

/* The record's age and what it found, or that the card has none. */
static void print_calibration(const struct ionpu_calib_info *c)
{
	char when[32];
	int64_t age = (int64_t)time(NULL) - c->created;

	printf("    %-20s: ", "Calibration");
	if (!c->calibrated) {
		printf("none (ionpu-smi calibrate makes one)\n");
		return;
	}
	utc_time(c->created, when, sizeof(when));
	printf("%s, %" PRId64 " h %" PRId64 " min ago; %" PRIu32
	       " stuck devices, %d tile%s scanned\n",
	       when, age / 3600, age % 3600 / 60, c->stuck_found,
	       popcount64(c->tiles_scanned),
	       popcount64(c->tiles_scanned) == 1 ? "" : "s");
}

/*
 * The tiles' owners, consecutive tiles of one owner together: "0-3 by 812
 * (ionpu-run)" for an administrator, "0-3 in use" for anyone else.
 */
static void print_leases(const struct card_health *h)
{
	char comm[IONPU_COMM_SIZE];
	const char *sep = "";
	uint32_t t = 0, used = 0;

	for (uint32_t k = 0; k < h->tiles; k++)
		used += h->owner[k] != 0;
	printf("    %-20s: %" PRIu32 " of %" PRIu32, "Tiles in use", used,
	       h->tiles);
	while (t < h->tiles) {
		uint32_t end = t;

		if (!h->owner[t]) {
			t++;
			continue;
		}
		while (end + 1 < h->tiles && h->owner[end + 1] == h->owner[t])
			end++;
		printf("%s %" PRIu32, sep[0] ? sep : ":", t);
		if (end > t)
			printf("-%" PRIu32, end);
		if (ionpu_health_owner_command(h->owner[t], comm, sizeof(comm)))
			printf(" by %" PRId32 " (%s)", h->owner[t], comm);
		else
			printf(" in use");
		sep = ",";
		t = end + 1;
	}
	printf("\n");
}

/* The sysfs part of -q: health and leases, readable by anyone. */
static void print_health(const char *sysfs_root, const struct ionpu_card *c)
{
	struct card_health h;
	char why[PATH_MAX + 64];

	if (ionpu_health_read(sysfs_root, c, &h, why, sizeof(why))) {
		printf("    %-20s: unavailable: %s\n", "Health", why);
		return;
	}
	printf("    %-20s: %s, %" PRIu64 " resets (last: %s), %" PRIu64
	       " hangs\n",
	       "Health", h.state, h.resets, h.last_reset, h.hangs);
	print_leases(&h);
}

static void print_caps(uint32_t caps)
{
	printf("    %-20s:", "Capabilities");
	if (!caps)
		printf(" none");
	for (size_t i = 0; i < COUNT_OF(cap_names); i++)
		if (caps & cap_names[i].bit)
			printf(" %s", cap_names[i].name);
	printf("\n");
}

/* Returns false when the card's driver could not be asked. */
static bool print_driver_view(const struct ionpu_card *card)
{
	struct driver_view view;
	const struct ionpu_dev_info *info = &view.info;
	double watts;

	ask_driver(card, &view);
	if (!view.answered) {
		printf("    %-20s: unavailable: %s\n", "Driver info",
		       view.error);
		return false;
	}
	printf("    %-20s: %" PRIu32 "\n", "API version", info->api_version);
	printf("    %-20s: %" PRIu32 " x %" PRIu32 " (rows x neurons)\n",
	       "Tile crossbar", info->tile_rows, info->tile_neurons);
	printf("    %-20s: %" PRIu64 "\n", "Neurons",
	       (uint64_t)info->tiles * info->tile_neurons);
	printf("    %-20s: %" PRIu64 "\n", "Synapses",
	       (uint64_t)info->tiles * info->tile_rows * info->tile_neurons);
	print_caps(info->caps);
	if (!view.counted) {
		printf("    %-20s: %s\n", "Activity",
		       "hidden: the whole card's counters need CAP_PERFMON");
		goto calibration;
	}
	for (size_t i = 0; i < COUNT_OF(counters); i++) {
		printf("    %-20s: ", counters[i].label);
		print_counter(&view.activity, &counters[i]);
		printf("\n");
	}
	printf("    %-20s: ", "Power (modeled, W)");
	if (busy_power(&view.activity, &watts))
		printf("%.6g while busy\n", watts);
	else
		printf("never busy yet\n");
calibration:
	print_calibration(&view.calib);
	return true;
}

static bool print_query(const struct ionpu_card *cards, size_t count,
			const char *id, const char *sysfs_root)
{
	bool ok = true;

	for (size_t i = 0; i < count; i++) {
		const struct ionpu_card *c = &cards[i];

		if (id && !card_matches(c, id))
			continue;
		printf("Card %s\n", c->pci_address);
		if (!c->driver_bound) {
			printf("    %-20s: %s (the rest needs the ionpu driver)\n",
			       "Driver", c->driver[0] ? c->driver : "none");
			continue;
		}
		printf("    %-20s: %d\n", "Index", c->index);
		printf("    %-20s: %s\n", "Node", c->node);
		printf("    %-20s: %s\n", "Driver", or_dash(c->driver));
		printf("    %-20s: %s\n", "Serial", or_dash(c->serial));
		printf("    %-20s: %u.%u\n", "HW version", c->hw_version_major,
		       c->hw_version_minor);
		printf("    %-20s: %" PRIu32 "\n", "Tiles", c->tiles);
		printf("    %-20s: %" PRIu64 "\n", "Seed", c->seed);
		print_health(sysfs_root, c);
		if (!print_driver_view(c))
			ok = false;
	}
	return ok;
}

/* A JSON string, or null for an empty one. */
static void json_string_or_null(const char *s)
{
	if (s[0])
		json_string(stdout, s);
	else
		printf("null");
}

/* The record's header: when, how old, what it found; null for none. */
static void json_calibration(const struct ionpu_calib_info *c)
{
	char when[32];

	if (!c->calibrated) {
		printf("null");
		return;
	}
	utc_time(c->created, when, sizeof(when));
	printf("{\"created\":\"%s\",\"age_s\":%" PRId64
	       ",\"tiles_scanned\":%d,\"stuck_devices\":%" PRIu32 "}",
	       when, (int64_t)time(NULL) - c->created,
	       popcount64(c->tiles_scanned), c->stuck_found);
}

/*
 * The sysfs part of -q: "health" and "leases" (each leased tile, its
 * process and command, those null for anyone but an administrator), or
 * both null and "health_error" saying why.
 */
static void json_health(const char *sysfs_root, const struct ionpu_card *c)
{
	char comm[IONPU_COMM_SIZE], why[PATH_MAX + 64];
	struct card_health h;
	const char *sep = "";

	if (ionpu_health_read(sysfs_root, c, &h, why, sizeof(why))) {
		printf(",\"health\":null,\"leases\":null,\"health_error\":");
		json_string(stdout, why);
		return;
	}
	printf(",\"health\":{\"state\":");
	json_string(stdout, h.state);
	printf(",\"resets\":%" PRIu64 ",\"last_reset\":", h.resets);
	json_string(stdout, h.last_reset);
	printf(",\"hangs\":%" PRIu64 "},\"leases\":[", h.hangs);
	for (uint32_t t = 0; t < h.tiles; t++) {
		if (!h.owner[t])
			continue;
		printf("%s{\"tile\":%" PRIu32 ",", sep, t);
		if (ionpu_health_owner_command(h.owner[t], comm,
					       sizeof(comm))) {
			printf("\"pid\":%" PRId32 ",\"command\":", h.owner[t]);
			json_string(stdout, comm);
		} else {
			printf("\"pid\":null,\"command\":null");
		}
		printf("}");
		sep = ",";
	}
	printf("],\"health_error\":null");
}

static void json_driver_view(const struct driver_view *view)
{
	const struct ionpu_dev_info *info = &view->info;
	const char *sep = "";
	double watts;

	if (!view->answered) {
		printf(",\"info\":null,\"activity\":null,\"calibration\":null"
		       ",\"error\":");
		json_string(stdout, view->error);
		return;
	}
	printf(",\"info\":{\"api_version\":%" PRIu32 ",\"tile_rows\":%" PRIu32
	       ",\"tile_neurons\":%" PRIu32 ",\"neurons\":%" PRIu64
	       ",\"synapses\":%" PRIu64 ",\"capabilities\":[",
	       info->api_version, info->tile_rows, info->tile_neurons,
	       (uint64_t)info->tiles * info->tile_neurons,
	       (uint64_t)info->tiles * info->tile_rows * info->tile_neurons);
	for (size_t i = 0; i < COUNT_OF(cap_names); i++) {
		if (!(info->caps & cap_names[i].bit))
			continue;
		printf("%s", sep);
		json_string(stdout, cap_names[i].name);
		sep = ",";
	}
	printf("]},\"activity\":");
	if (view->counted) {
		for (size_t i = 0; i < COUNT_OF(counters); i++) {
			printf("%s\"%s\":", i ? "," : "{", counters[i].json);
			print_counter(&view->activity, &counters[i]);
		}
		if (busy_power(&view->activity, &watts))
			printf(",\"power_w\":%.15g}", watts);
		else
			printf(",\"power_w\":null}");
	} else {
		printf("null");
	}
	printf(",\"calibration\":");
	json_calibration(&view->calib);
	printf(",\"error\":null");
}

/* Returns false when the card's driver could not be asked (with -q). */
static bool json_card(const struct ionpu_card *c, bool query,
		      const char *sysfs_root)
{
	struct driver_view view = { .answered = true };

	printf("{\"pci_address\":");
	json_string(stdout, c->pci_address);
	printf(",\"driver_bound\":%s,\"driver\":",
	       c->driver_bound ? "true" : "false");
	json_string_or_null(c->driver);
	if (c->driver_bound) {
		printf(",\"index\":%d,\"node\":", c->index);
		json_string(stdout, c->node);
		printf(",\"serial\":");
		json_string_or_null(c->serial);
		printf(",\"tiles\":%" PRIu32 ",\"hw_version\":\"%u.%u\""
		       ",\"seed\":%" PRIu64,
		       c->tiles, c->hw_version_major, c->hw_version_minor,
		       c->seed);
	} else {
		printf(",\"index\":null,\"node\":null,\"serial\":null"
		       ",\"tiles\":null,\"hw_version\":null,\"seed\":null");
	}
	if (query) {
		if (c->driver_bound)
			json_health(sysfs_root, c);
		else
			printf(",\"health\":null,\"leases\":null"
			       ",\"health_error\":null");
		ask_driver(c, &view);
		json_driver_view(&view);
	}
	printf("}");
	return view.answered || !c->driver_bound;
}

/* Returns false when a card's driver could not be asked (with -q). */
static bool print_json(const struct ionpu_card *cards, size_t count,
		       const struct options *opts)
{
	char when[32] = "";
	time_t now = time(NULL);
	const char *sep = "";
	struct tm tm;
	bool ok = true;

	if (gmtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("{\"time\":\"%s\",\"module_loaded\":%s,\"cards\":[", when,
	       module_loaded(opts->sysfs_root) ? "true" : "false");
	for (size_t i = 0; i < count; i++) {
		const struct ionpu_card *c = &cards[i];

		if (opts->id && !card_matches(c, opts->id))
			continue;
		printf("%s", sep);
		if (!json_card(c, opts->query, opts->sysfs_root))
			ok = false;
		sep = ",";
	}
	printf("]}\n");
	return ok;
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void prometheus_label(const char *name, const char *value)
{
	printf("%s=\"", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '"')
			printf("\\%c", *p);
		else if (*p == '\n')
			printf("\\n");
		else
			putchar(*p);
	}
	putchar('"');
}

static void prometheus_family(const char *name, const char *type,
			      const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{card="...",serial="..."} for one card, with @label="@value" too. */
static void prometheus_sample_with(const char *name, const struct ionpu_card *c,
				   const char *label, const char *value)
{
	printf("%s{", name);
	prometheus_label("card", c->pci_address);
	putchar(',');
	prometheus_label("serial", c->serial);
	if (label) {
		putchar(',');
		prometheus_label(label, value);
	}
	printf("} ");
}

static void prometheus_sample(const char *name, const struct ionpu_card *c)
{
	prometheus_sample_with(name, c, NULL, NULL);
}

/*
 * The health sysfs shows anyone, for the cards whose driver serves it:
 * resets by cause, hangs, leased tiles out of the card's.
 */
static void print_prometheus_health(const struct ionpu_card *cards,
				    const struct card_health *health,
				    const bool *healthy, size_t count)
{
	prometheus_family("ionpu_resets_total", "counter",
			  "Resets of the card since its driver bound it, by cause.");
	for (size_t i = 0; i < count; i++)
		for (int k = 0;
		     healthy[i] && health[i].by_cause && k < IONPU_RESET_CAUSES;
		     k++) {
			prometheus_sample_with("ionpu_resets_total", &cards[i],
					       "cause",
					       ionpu_reset_cause_names[k]);
			printf("%" PRIu64 "\n", health[i].resets_by_cause[k]);
		}
	prometheus_family("ionpu_hangs_total", "counter",
			  "Times the driver found the card hung.");
	for (size_t i = 0; i < count; i++) {
		if (!healthy[i])
			continue;
		prometheus_sample("ionpu_hangs_total", &cards[i]);
		printf("%" PRIu64 "\n", health[i].hangs);
	}
	prometheus_family("ionpu_tiles", "gauge",
			  "Crossbar tiles of the card.");
	for (size_t i = 0; i < count; i++) {
		if (!healthy[i])
			continue;
		prometheus_sample("ionpu_tiles", &cards[i]);
		printf("%" PRIu32 "\n", cards[i].tiles);
	}
	prometheus_family("ionpu_leased_tiles", "gauge",
			  "Tiles an open file holds a lease on.");
	for (size_t i = 0; i < count; i++) {
		uint32_t leased = 0;

		if (!healthy[i])
			continue;
		for (uint32_t t = 0; t < health[i].tiles; t++)
			leased += health[i].owner[t] != 0;
		prometheus_sample("ionpu_leased_tiles", &cards[i]);
		printf("%" PRIu32 "\n", leased);
	}
}

/*
 * The matching cards' counters; a card whose driver cannot be asked has
 * ionpu_up 0 and no counters, as exporters show a target they cannot
 * scrape.  Its reason goes to stderr.
 */
static int print_prometheus(const struct ionpu_card *cards, size_t count,
			    const char *id, const char *sysfs_root)
{
	size_t n = count ? count : 1;
	struct driver_view *views = calloc(n, sizeof(*views));
	struct card_health *health = calloc(n, sizeof(*health));
	bool *healthy = calloc(n, sizeof(*healthy));
	char why[256];

	if (!views || !health || !healthy) {
		fprintf(stderr, "ionpu-smi: %s\n", strerror(errno));
		free(views);
		free(health);
		free(healthy);
		return IONPU_EXIT_ERROR;
	}
	for (size_t i = 0; i < count; i++) {
		if (id && !card_matches(&cards[i], id))
			continue;
		ask_driver(&cards[i], &views[i]);
		if (!views[i].answered)
			fprintf(stderr, "ionpu-smi: %s: %s\n",
				cards[i].pci_address, views[i].error);
		/* A card no driver serves has no health to tell. */
		if (!cards[i].driver_bound)
			continue;
		healthy[i] = !ionpu_health_read(sysfs_root, &cards[i],
						&health[i], why, sizeof(why));
		if (!healthy[i])
			fprintf(stderr, "ionpu-smi: %s: %s\n",
				cards[i].pci_address, why);
	}
	prometheus_family("ionpu_up", "gauge",
			  "1 if the card's driver answered, 0 if not.");
	for (size_t i = 0; i < count; i++) {
		if (id && !card_matches(&cards[i], id))
			continue;
		prometheus_sample("ionpu_up", &cards[i]);
		printf("%d\n", views[i].answered);
	}
	for (size_t k = 0; k < COUNT_OF(counters); k++) {
		prometheus_family(counters[k].metric, "counter",
				  counters[k].help);
		for (size_t i = 0; i < count; i++) {
			if (!views[i].counted)
				continue;
			prometheus_sample(counters[k].metric, &cards[i]);
			print_counter(&views[i].activity, &counters[k]);
			printf("\n");
		}
	}
	print_prometheus_health(cards, health, healthy, count);
	free(healthy);
	free(health);
	free(views);
	return IONPU_EXIT_OK;
}

static size_t count_matching(const struct ionpu_card *cards, size_t count,
			     const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < count; i++)
		if (!id || card_matches(&cards[i], id))
			n++;
	return n;
}

/* "0,3,8-11" or "all" (0) into a tile mask. */
static int parse_tiles(const char *list, uint64_t *mask)
{
	const char *p = list;

	*mask = 0;
	if (!strcmp(list, "all"))
		return 0;
	for (;;) {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;

		/* strtoul() would take blanks and signs too. */
		if (!isdigit((unsigned char)*p))
			return -1;
		if (*end == '-') {
			p = end + 1;
			if (!isdigit((unsigned char)*p))
				return -1;
			hi = strtoul(p, &end, 10);
		}
		if (lo > hi || hi > 63)
			return -1;
		for (unsigned long t = lo; t <= hi; t++)
			*mask |= 1ull << t;
		if (!*end)
			return 0;
		if (*end != ',')
			return -1;
		p = end + 1;
	}
}

static const char *const command_names[] = {
	[CMD_LIST] = "",
	[CMD_CALIB] = "calib",
	[CMD_CALIBRATE] = "calibrate",
	[CMD_CDI] = "cdi",
};

/* An option that only one command takes, given to another. */
static int misplaced(const char *opt, enum command want)
{
	fprintf(stderr, "ionpu-smi: %s is an option of '%s'\n", opt,
		want == CMD_LIST ? "ionpu-smi" : command_names[want]);
	usage(stderr);
	return -1;
}

enum { OPT_SYSFS = 256, OPT_TILES, OPT_DRY_RUN, OPT_CLEAR, OPT_PROMETHEUS };

static bool is_calib(enum command cmd)
{
	return cmd == CMD_CALIB || cmd == CMD_CALIBRATE;
}

/* Option @opt of getopt_long() into @opts: 0, or -1 with a message. */
static int take_option(int opt, struct options *opts)
{
	char *end;

	switch (opt) {
	case 'q':
		if (opts->cmd != CMD_LIST)
			return misplaced("--query", CMD_LIST);
		opts->query = true;
		return 0;
	case 'j':
	case OPT_PROMETHEUS: {
		enum output_format format = opt == 'j' ? OUT_JSON :
							 OUT_PROMETHEUS;

		if (opts->cmd != CMD_LIST)
			return misplaced(opt == 'j' ? "--json" : "--prometheus",
					 CMD_LIST);
		if (opts->format != OUT_HUMAN && opts->format != format) {
			fprintf(stderr,
				"ionpu-smi: --json and --prometheus are two formats: choose one\n");
			usage(stderr);
			return -1;
		}
		opts->format = format;
		return 0;
	}
	case 'l':
		if (opts->cmd != CMD_LIST)
			return misplaced("--loop", CMD_LIST);
		opts->loop_seconds = strtod(optarg, &end);
		/* Also not "nan", "inf" or past what a timespec holds. */
		if (end == optarg || *end || !(opts->loop_seconds > 0) ||
		    opts->loop_seconds > 1e9) {
			fprintf(stderr,
				"ionpu-smi: --loop wants a number of seconds above 0, not '%s'\n",
				optarg);
			usage(stderr);
			return -1;
		}
		return 0;
	case 'i':
		opts->id = optarg;
		return 0;
	case OPT_SYSFS:
		opts->sysfs_root = optarg;
		return 0;
	case 'o':
		if (opts->cmd != CMD_CDI)
			return misplaced("--output", CMD_CDI);
		opts->output = optarg;
		return 0;
	case 'n':
		if (!is_calib(opts->cmd))
			return misplaced("--entries", CMD_CALIB);
		opts->entries = strtoul(optarg, &end, 10);
		if (end == optarg || *end || optarg[0] == '-') {
			fprintf(stderr,
				"ionpu-smi: --entries wants a number, not '%s'\n",
				optarg);
			return -1;
		}
		return 0;
	case OPT_CLEAR:
		if (opts->cmd != CMD_CALIB)
			return misplaced("--clear", CMD_CALIB);
		opts->clear = true;
		return 0;
	case OPT_TILES:
		if (opts->cmd != CMD_CALIBRATE)
			return misplaced("--tiles", CMD_CALIBRATE);
		if (parse_tiles(optarg, &opts->tiles)) {
			fprintf(stderr,
				"ionpu-smi: --tiles wants tiles 0..63 such as 0,3,8-11 or all, not '%s'\n",
				optarg);
			return -1;
		}
		return 0;
	case OPT_DRY_RUN:
		if (opts->cmd != CMD_CALIBRATE)
			return misplaced("--dry-run", CMD_CALIBRATE);
		opts->dry_run = true;
		return 0;
	case 'V':
		printf("ionpu-smi, libionpu %s\n", ionpu_version());
		exit(IONPU_EXIT_OK);
	case 'h':
		usage(stdout);
		exit(IONPU_EXIT_OK);
	default:
		usage(stderr);
		return -1;
	}
}

static int parse_options(int argc, char **argv, struct options *opts)
{
	static const struct option longopts[] = {
		{ "query", no_argument, NULL, 'q' },
		{ "id", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, OPT_PROMETHEUS },
		{ "loop", required_argument, NULL, 'l' },
		{ "sysfs", required_argument, NULL, OPT_SYSFS },
		{ "entries", required_argument, NULL, 'n' },
		{ "tiles", required_argument, NULL, OPT_TILES },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "clear", no_argument, NULL, OPT_CLEAR },
		{ "output", required_argument, NULL, 'o' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	opts->entries = 10;
	/* A command comes first, as with nvidia-smi's. */
	if (argc > 1 && argv[1][0] != '-') {
		for (size_t c = 1;
		     c < sizeof(command_names) / sizeof(command_names[0]); c++)
			if (!strcmp(argv[1], command_names[c]))
				opts->cmd = (enum command)c;
		if (opts->cmd == CMD_LIST) {
			fprintf(stderr, "ionpu-smi: unknown command '%s'\n",
				argv[1]);
			usage(stderr);
			return -1;
		}
		argc--;
		argv++;
	}
	while ((opt = getopt_long(argc, argv, "qi:jl:n:o:Vh", longopts,
				  NULL)) != -1)
		if (take_option(opt, opts))
			return -1;
	if (optind < argc) {
		fprintf(stderr, "ionpu-smi: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return -1;
	}
	/*
	 * --prometheus asks the driver anyway, and is meant for a file the
	 * textfile collector reads: a repeat or -q would be ignored.
	 */
	if (opts->format == OUT_PROMETHEUS &&
	    (opts->query || opts->loop_seconds)) {
		fprintf(stderr, "ionpu-smi: --prometheus takes neither %s\n",
			opts->query ? "--query" : "--loop");
		usage(stderr);
		return -1;
	}
	/* Runtimes read .json and .yaml specs; this one is JSON. */
	if (opts->output && !ends_with(opts->output, ".json")) {
		fprintf(stderr,
			"ionpu-smi: cdi --output %s: the spec is JSON: name it FILE.json\n",
			opts->output);
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The library's message, and what to do about the usual failures. */
static int report_failure(const struct ionpu_card *card, int err)
{
	fprintf(stderr, "ionpu-smi: %s: %s\n", card->pci_address,
		ionpu_last_error());
	if (err == -EPERM)
		fprintf(stderr,
			"ionpu-smi: this needs CAP_SYS_ADMIN: run it as root\n");
	else if (err == -EACCES)
		fprintf(stderr,
			"ionpu-smi: no access to the card's node: run it as root or as a member of the node's group\n");
	else if (err == -EBUSY)
		fprintf(stderr,
			"ionpu-smi: a tile to scan is leased by a running program: stop it, or choose other tiles with --tiles\n");
	return ionpu_exit_of(err);
}

static void print_tiles(const char *label, uint64_t tiles)
{
	const char *sep = "";

	printf("    %-20s:", label);
	if (!tiles)
		printf(" none");
	for (unsigned int t = 0; t < 64; t++) {
		unsigned int last = t;

		if (!(tiles >> t & 1))
			continue;
		while (last < 63 && tiles >> (last + 1) & 1)
			last++;
		if (last > t)
			printf("%s %u-%u", sep, t, last);
		else
			printf("%s %u", sep, t);
		sep = ",";
		t = last;
	}
	printf("\n");
}

static void print_record(const struct ionpu_calib_info *info,
			 const struct ionpu_stuck_device *stuck, size_t count,
			 unsigned long entries)
{
	char when[64] = "?";
	time_t t = (time_t)info->created;
	struct tm tm;

	if (!info->calibrated) {
		printf("    %-20s: none (blank: the card was never calibrated)\n",
		       "Calibration record");
		return;
	}
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("    %-20s: version %" PRIu32 ", written %s\n",
	       "Calibration record", info->version, when);
	printf("    %-20s: %s (seed %" PRIu64 ")\n", "Made for", info->serial,
	       info->seed);
	printf("    %-20s: %" PRIu32 " SET then %" PRIu32
	       " RESET pulses, stuck below %.2f uS\n",
	       "Scan", info->pulses, info->pulses, info->threshold_us);
	print_tiles("Tiles scanned", info->tiles_scanned);
	printf("    %-20s: %" PRIu32 " found, %" PRIu32 " listed\n",
	       "Stuck devices", info->stuck_found, info->stuck_listed);
	if (info->flags & IONPU_CALIB_OVERFLOW)
		print_tiles("Lists cut for room", info->tiles_truncated);
	if (!count || !entries)
		return;
	printf("    %4s %4s %6s %3s %9s\n", "TILE", "ROW", "COLUMN", "DEV",
	       "G (uS)");
	for (size_t i = 0; i < count && i < entries; i++)
		printf("    %4" PRIu32 " %4u %6u %3s %9.2f\n", stuck[i].tile,
		       stuck[i].row, stuck[i].column,
		       stuck[i].device ? "G-" : "G+", stuck[i].g_us);
	if (count > entries)
		printf("    ... %zu more (-n to show them)\n", count - entries);
}

static int show_calib(const struct ionpu_card *card, const struct options *opts)
{
	struct ionpu_stuck_device *stuck = NULL;
	struct ionpu_calib_info info;
	struct ionpu_dev *dev;
	size_t count = 0;
	int ret;

	ret = ionpu_open(card->node, &dev);
	if (ret)
		return report_failure(card, ret);
	if (opts->clear) {
		ret = ionpu_calib_clear(dev);
		if (ret)
			goto err_close;
		printf("Card %s: calibration record cleared\n",
		       card->pci_address);
	} else {
		ret = ionpu_calib_read(dev, &info, &stuck, &count);
		if (ret)
			goto err_close;
		printf("Card %s\n", card->pci_address);
		print_record(&info, stuck, count, opts->entries);
	}
	ionpu_close(dev);
	free(stuck);
	return IONPU_EXIT_OK;

err_close:
	ionpu_close(dev);
	return report_failure(card, ret);
}

static int calibrate(const struct ionpu_card *card, const struct options *opts)
{
	struct ionpu_stuck_device *stuck = NULL;
	struct ionpu_calib_report rep;
	size_t count = 0, on_gplus = 0;
	struct ionpu_dev *dev;
	int ret;

	ret = ionpu_open(card->node, &dev);
	if (ret)
		return report_failure(card, ret);
	ret = ionpu_calibrate(dev, opts->tiles,
			      opts->dry_run ? IONPU_CALIBRATE_DRY_RUN : 0, &rep,
			      &stuck, &count);
	ionpu_close(dev);
	if (ret)
		return report_failure(card, ret);
	for (size_t i = 0; i < count; i++)
		on_gplus += !stuck[i].device;
	printf("Card %s: %s\n", card->pci_address,
	       opts->dry_run ? "dry run, the record is unchanged" :
			       "calibration record written");
	print_tiles("Tiles scanned now", rep.tiles);
	printf("    %-20s: %" PRIu32 " (G+ %zu, G- %zu)\n",
	       "Stuck devices found", rep.stuck, on_gplus, count - on_gplus);
	printf("    %-20s: %" PRIu32 "%s\n", "Devices not restored",
	       rep.not_restored,
	       rep.not_restored ? " (their weights must be programmed again)" :
				  "");
	print_record(&rep.record, stuck, count, opts->entries);
	free(stuck);
	return IONPU_EXIT_OK;
}

/* calib and calibrate: each matching card, and calibrate only one. */
static int run_calib(const struct ionpu_card *cards, size_t count,
		     const struct options *opts)
{
	const struct ionpu_card *pick = NULL;
	int status = IONPU_EXIT_OK;
	size_t n = 0;

	for (size_t i = 0; i < count; i++) {
		if ((opts->id && !card_matches(&cards[i], opts->id)) ||
		    !cards[i].driver_bound)
			continue;
		n++;
		pick = &cards[i];
		if (opts->cmd == CMD_CALIB) {
			int st = show_calib(pick, opts);

			if (st != IONPU_EXIT_OK)
				status = st;
		}
	}
	if (!n) {
		fprintf(stderr,
			"ionpu-smi: no card served by the ionpu driver%s%s\n",
			opts->id ? " matches " : "", opts->id ? opts->id : "");
		return IONPU_EXIT_NO_CARD;
	}
	if (opts->cmd == CMD_CALIB)
		return status;
	if (n > 1) {
		fprintf(stderr,
			"ionpu-smi: calibrate works on one card: choose it with -i\n");
		return IONPU_EXIT_ERROR;
	}
	return calibrate(pick, opts);
}

/*
 * Write the spec to @path through a file beside it renamed into place, so
 * that a runtime watching /etc/cdi never reads half a spec.
 */
static int write_cdi_file(const char *path,
			  const struct ionpu_card *const *cards, size_t n,
			  const char *sysfs_root)
{
	char tmp[PATH_MAX];
	FILE *fp;
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		fprintf(stderr, "ionpu-smi: %s: name too long\n", path);
		return -ENAMETOOLONG;
	}
	fd = mkstemp(tmp);
	if (fd < 0 || fchmod(fd, 0644) || !(fp = fdopen(fd, "w"))) {
		err = -errno;
		fprintf(stderr, "ionpu-smi: %s: %s\n", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return err;
	}
	err = ionpu_cdi_write(fp, cards, n, sysfs_root);
	if (fflush(fp) || ferror(fp)) {
		if (!err)
			fprintf(stderr, "ionpu-smi: %s: %s\n", tmp,
				strerror(errno));
		err = err ? err : -EIO;
	}
	if (fclose(fp) && !err)
		err = -EIO;
	if (!err && rename(tmp, path)) {
		err = -errno;
		fprintf(stderr, "ionpu-smi: %s: %s\n", path, strerror(errno));
	}
	if (err)
		unlink(tmp);
	return err;
}

/* cdi: the spec of the matching cards the driver serves. */
static int run_cdi(const struct ionpu_card *cards, size_t count,
		   const struct options *opts)
{
	const struct ionpu_card **served = calloc(count + 1, sizeof(*served));
	size_t n = 0;
	int err;

	if (!served) {
		fprintf(stderr, "ionpu-smi: out of memory\n");
		return IONPU_EXIT_ERROR;
	}
	for (size_t i = 0; i < count; i++)
		if (cards[i].driver_bound &&
		    (!opts->id || card_matches(&cards[i], opts->id)))
			served[n++] = &cards[i];
	if (!n) {
		fprintf(stderr,
			"ionpu-smi: no card served by the ionpu driver%s%s: no spec written\n",
			opts->id ? " matches " : "", opts->id ? opts->id : "");
		free(served);
		return IONPU_EXIT_NO_CARD;
	}
	if (opts->output) {
		err = write_cdi_file(opts->output, served, n, opts->sysfs_root);
	} else {
		err = ionpu_cdi_write(stdout, served, n, opts->sysfs_root);
		if (!err && fflush(stdout))
			err = -EIO;
	}
	free(served);
	return err ? IONPU_EXIT_ERROR : IONPU_EXIT_OK;
}

/* One view of the list command, in its format: an exit status. */
static int show_list(const struct options *opts)
{
	struct ionpu_card *cards;
	int status = IONPU_EXIT_OK;
	size_t count;
	bool none;

	if (ionpu_list(opts->sysfs_root, &cards, &count)) {
		fprintf(stderr, "ionpu-smi: %s\n", ionpu_last_error());
		return IONPU_EXIT_ERROR;
	}
	none = !count_matching(cards, count, opts->id);
	/* The machine formats still write a whole document for no card. */
	if (opts->format == OUT_JSON) {
		status = print_json(cards, count, opts) ? IONPU_EXIT_OK :
							  IONPU_EXIT_ERROR;
	} else if (opts->format == OUT_PROMETHEUS) {
		status = print_prometheus(cards, count, opts->id,
					  opts->sysfs_root);
	} else if (none) {
		if (opts->id)
			printf("No IONPU card matches \"%s\".\n", opts->id);
		else
			printf("No IONPU cards found.\n");
	} else if (opts->query) {
		status = print_query(cards, count, opts->id, opts->sysfs_root) ?
				 IONPU_EXIT_OK :
				 IONPU_EXIT_ERROR;
	} else {
		print_table(cards, count, opts->id,
			    module_loaded(opts->sysfs_root));
	}
	if (none)
		status = IONPU_EXIT_NO_CARD;
	ionpu_list_free(cards);
	return status;
}

/*
 * The view every loop_seconds until SIGINT or SIGTERM, which end it with
 * exit status 0.  The signals stay blocked and are taken by
 * sigtimedwait(), so a view is never cut in the middle and no handler is
 * needed.
 */
static int loop_list(const struct options *opts)
{
	time_t whole = (time_t)opts->loop_seconds;
	struct timespec interval = {
		.tv_sec = whole,
		.tv_nsec = (long)((opts->loop_seconds - (double)whole) * 1e9),
	};
	sigset_t stop;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &stop, NULL)) {
		fprintf(stderr, "ionpu-smi: blocking SIGINT: %s\n",
			strerror(errno));
		return IONPU_EXIT_ERROR;
	}
	for (;;) {
		if (opts->format == OUT_HUMAN) {
			time_t now = time(NULL);
			char when[64] = "";
			struct tm tm;

			if (localtime_r(&now, &tm))
				strftime(when, sizeof(when), "%c", &tm);
			printf("%s\n", when);
		}
		show_list(opts);
		if (opts->format == OUT_HUMAN)
			printf("\n");
		fflush(stdout);
		if (sigtimedwait(&stop, NULL, &interval) >= 0)
			return IONPU_EXIT_OK;
		if (errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "ionpu-smi: waiting: %s\n",
				strerror(errno));
			return IONPU_EXIT_ERROR;
		}
	}
}

int main(int argc, char **argv)
{
	struct options opts = { 0 };
	struct ionpu_card *cards;
	size_t count;
	int status;

	if (parse_options(argc, argv, &opts))
		return IONPU_EXIT_USAGE;
	if (opts.cmd == CMD_LIST)
		return opts.loop_seconds ? loop_list(&opts) : show_list(&opts);
	if (ionpu_list(opts.sysfs_root, &cards, &count)) {
		fprintf(stderr, "ionpu-smi: %s\n", ionpu_last_error());
		return IONPU_EXIT_ERROR;
	}
	status = opts.cmd == CMD_CDI ? run_cdi(cards, count, &opts) :
				       run_calib(cards, count, &opts);
	ionpu_list_free(cards);
	return status;
}
