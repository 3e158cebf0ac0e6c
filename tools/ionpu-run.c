// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu-run: run a NIR graph on an IONPU card.  This first form maps the
 * graph onto a card and prints the mapping (--plan); it needs no card, so
 * it answers "does my network fit, and how" anywhere.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ionpu/ionpu.h>

enum exit_status {
	EXIT_OK = 0,
	EXIT_ERROR = 1,
	EXIT_NO_FIT = 2,
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ionpu-run --plan [OPTION]... GRAPH.nir\n"
		"Map a NIR graph onto an IONPU card and print the mapping.\n"
		"\n"
		"  -p, --plan         map the graph offline and print the plan (no card needed)\n"
		"  -t, --tiles=N      the card has N tiles (default 16)\n"
		"      --dt=SECONDS   length of a time step, for delays (default 0.001)\n"
		"  -V, --version      show the version and exit\n"
		"  -h, --help         show this help and exit\n"
		"\n"
		"Exit status: 0 if the graph fits, 1 on an error, 2 if it does not fit.\n");
}

static bool parse_uint(const char *s, unsigned long max, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!s[0] || s[0] == '-' || s[0] == '+')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "plan", no_argument, NULL, 'p' },
		{ "tiles", required_argument, NULL, 't' },
		{ "dt", required_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ionpu_card_desc card;
	struct ionpu_network *net;
	struct ionpu_plan *plan;
	bool want_plan = false;
	uint32_t tiles = 16;
	double dt = 1e-3;
	char *end;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "pt:Vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			want_plan = true;
			break;
		case 't':
			if (!parse_uint(optarg, 1u << 16, &tiles)) {
				fprintf(stderr, "ionpu-run: --tiles: '%s' is not a tile count\n",
					optarg);
				return EXIT_ERROR;
			}
			break;
		case 'd':
			errno = 0;
			dt = strtod(optarg, &end);
			if (errno || *end || !(dt > 0) || !isfinite(dt)) {
				fprintf(stderr, "ionpu-run: --dt: '%s' is not a positive time\n",
					optarg);
				return EXIT_ERROR;
			}
			break;
		case 'V':
			printf("ionpu-run (libionpu %s)\n", ionpu_version());
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (!want_plan || optind != argc - 1) {
		usage(stderr);
		return EXIT_ERROR;
	}

	err = ionpu_nir_load(argv[optind], &net);
	if (err) {
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
		return EXIT_ERROR;
	}
	ionpu_card_desc_default(tiles, &card);
	card.dt = dt;
	err = ionpu_compile(net, &card, &plan);
	ionpu_network_free(net);
	if (err) {
		fprintf(stderr, "ionpu-run: %s: %s\n", argv[optind], ionpu_last_error());
		return err == -ENOSPC || err == -ERANGE ? EXIT_NO_FIT : EXIT_ERROR;
	}
	err = ionpu_plan_dump(plan, stdout);
	ionpu_plan_free(plan);
	if (err || fflush(stdout)) {
		fprintf(stderr, "ionpu-run: cannot write the plan\n");
		return EXIT_ERROR;
	}
	return EXIT_OK;
}
