// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu-smi: list the IONPU cards of this system and show what each reports.
 *
 * Read-only, so it is safe to run anywhere, including from a busybox
 * initramfs: that is why it builds static and needs nothing but sysfs and
 * the device nodes.
 */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ionpu/ionpu.h>

enum exit_status {
	EXIT_OK = 0,
	EXIT_ERROR = 1,
	EXIT_NO_CARD = 2,
};

struct options {
	bool query;
	const char *id;
	const char *sysfs_root;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ionpu-smi [OPTION]...\n"
		"List the IONPU neuromorphic accelerator cards of this system.\n"
		"\n"
		"  -q, --query        detailed view of each card, asking the driver too\n"
		"  -i, --id=CARD      only CARD: its index (0) or PCI address (0000:00:03.0)\n"
		"      --sysfs=DIR    read sysfs below DIR instead of /sys\n"
		"  -V, --version      show the versions and exit\n"
		"  -h, --help         show this help and exit\n"
		"\n"
		"Exit status: 0 if all went well, 1 on an error, 2 if no card was found.\n");
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
				    NULL : card->pci_address + 5;

	snprintf(index, sizeof(index), "%d", card->index);
	return (card->index >= 0 && !strcmp(id, index)) ||
	       !strcasecmp(id, card->pci_address) ||
	       (short_address && !strcasecmp(id, short_address));
}

static void print_table(const struct ionpu_card *cards, size_t count,
			const char *id)
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
			printf("%-4s %-13s %-12s %-16s %5s %-5s no (%s)\n", index,
			       c->pci_address, "-", "-", tiles, hw,
			       c->driver[0] ? c->driver : "no driver");
		}
	}
	if (driverless)
		printf("\n%zu card(s) with no driver: is the ionpu module loaded?\n",
		       driverless);
}

static void print_caps(uint32_t caps)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ IONPU_DEV_CAP_FLR, "FLR" },
		{ IONPU_DEV_CAP_TEST_IRQ, "TEST_IRQ" },
		{ IONPU_DEV_CAP_QUEUES, "QUEUES" },
		{ IONPU_DEV_CAP_READOUT, "READOUT" },
		{ IONPU_DEV_CAP_NVSTORE, "NVSTORE" },
		{ IONPU_DEV_CAP_FAULTS, "FAULTS" },
	};

	printf("    %-20s:", "Capabilities");
	if (!caps)
		printf(" none");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (caps & names[i].bit)
			printf(" %s", names[i].name);
	printf("\n");
}

/* Returns false when the card's driver could not be asked. */
static bool print_driver_view(const struct ionpu_card *card)
{
	struct ionpu_dev_info info;
	struct ionpu_dev *dev;
	int ret;

	ret = ionpu_open(card->node, &dev);
	if (!ret) {
		ret = ionpu_info(dev, &info);
		ionpu_close(dev);
	}
	if (ret) {
		printf("    %-20s: unavailable: %s\n", "Driver info",
		       ionpu_last_error());
		return false;
	}
	printf("    %-20s: %" PRIu32 "\n", "API version", info.api_version);
	printf("    %-20s: %" PRIu32 " x %" PRIu32 " (rows x neurons)\n",
	       "Tile crossbar", info.tile_rows, info.tile_neurons);
	printf("    %-20s: %" PRIu64 "\n", "Neurons",
	       (uint64_t)info.tiles * info.tile_neurons);
	printf("    %-20s: %" PRIu64 "\n", "Synapses",
	       (uint64_t)info.tiles * info.tile_rows * info.tile_neurons);
	print_caps(info.caps);
	return true;
}

static bool print_query(const struct ionpu_card *cards, size_t count,
			const char *id)
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
		if (!print_driver_view(c))
			ok = false;
	}
	return ok;
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

static int parse_options(int argc, char **argv, struct options *opts)
{
	enum { OPT_SYSFS = 256 };
	static const struct option longopts[] = {
		{ "query", no_argument, NULL, 'q' },
		{ "id", required_argument, NULL, 'i' },
		{ "sysfs", required_argument, NULL, OPT_SYSFS },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "qi:Vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			opts->query = true;
			break;
		case 'i':
			opts->id = optarg;
			break;
		case OPT_SYSFS:
			opts->sysfs_root = optarg;
			break;
		case 'V':
			printf("ionpu-smi, libionpu %s\n", ionpu_version());
			exit(EXIT_OK);
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ionpu-smi: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options opts = { 0 };
	struct ionpu_card *cards;
	size_t count;
	int status;

	if (parse_options(argc, argv, &opts))
		return EXIT_ERROR;
	if (ionpu_list(opts.sysfs_root, &cards, &count)) {
		fprintf(stderr, "ionpu-smi: %s\n", ionpu_last_error());
		return EXIT_ERROR;
	}

	if (!count_matching(cards, count, opts.id)) {
		if (opts.id)
			printf("No IONPU card matches \"%s\".\n", opts.id);
		else
			printf("No IONPU cards found.\n");
		status = EXIT_NO_CARD;
	} else if (opts.query) {
		status = print_query(cards, count, opts.id) ? EXIT_OK : EXIT_ERROR;
	} else {
		print_table(cards, count, opts.id);
		status = EXIT_OK;
	}
	ionpu_list_free(cards);
	return status;
}
