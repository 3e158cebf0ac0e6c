// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu-run: run a NIR graph on an IONPU card.  --plan maps the graph onto
 * a card and prints the mapping; --host runs it on the host reference, the
 * card's model core in software.  Neither needs a card, so they answer
 * "does my network fit, and what does it compute" anywhere.
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
		"  or:  ionpu-run --host --input=IN --output=OUT.npy [OPTION]... GRAPH.nir\n"
		"Map a NIR graph onto an IONPU card and print the mapping, or run it.\n"
		"\n"
		"  -p, --plan         map the graph offline and print the plan (no card needed)\n"
		"      --host         run the graph on the host reference, the card's model in\n"
		"                     software with no noise (no card needed)\n"
		"  -i, --input=IN     input raster, .npy or .csv: one row per time step, one\n"
		"                     column per input channel (1 = spike, or graded values)\n"
		"  -o, --output=OUT   output raster to write, .npy of uint8: one row per time\n"
		"                     step, one column per output neuron\n"
		"  -t, --tiles=N      the card has N tiles (default 16)\n"
		"      --dt=SECONDS   length of a time step (default 0.001)\n"
		"  -V, --version      show the version and exit\n"
		"  -h, --help         show this help and exit\n"
		"\n"
		"Exit status: 0 if the graph fits (and ran), 1 on an error, 2 if it does not fit.\n");
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* Run @plan of @net on the host reference: raster from @in_path to @out_path. */
static int run_host(const struct ionpu_network *net, const struct ionpu_plan *plan,
		    const char *in_path, const char *out_path)
{
	struct ionpu_host *host = NULL;
	float *in = NULL;
	uint8_t *out = NULL;
	size_t steps, cols, spikes = 0;
	int err;

	err = ends_with(in_path, ".csv") ? ionpu_csv_read(in_path, &in, &steps, &cols) :
					   ionpu_npy_read(in_path, &in, &steps, &cols);
	if (!err)
		err = ionpu_host_new(net, plan, &host);
	if (err) {
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
		free(in);
		return EXIT_ERROR;
	}
	if (cols != ionpu_host_inputs(host)) {
		fprintf(stderr, "ionpu-run: %s: %zu columns, the graph has %zu input channels\n",
			in_path, cols, ionpu_host_inputs(host));
		err = -EINVAL;
	} else {
		out = calloc(steps * ionpu_host_outputs(host) + 1, 1);
		if (!out) {
			fprintf(stderr, "ionpu-run: out of memory\n");
			err = -ENOMEM;
		}
	}
	if (!err) {
		err = ionpu_host_run(host, in, steps, out);
		if (!err)
			err = ionpu_npy_write(out_path, IONPU_NPY_U8, out, steps,
					      ionpu_host_outputs(host));
		if (err)
			fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
	}
	if (!err) {
		for (size_t k = 0; k < steps * ionpu_host_outputs(host); k++)
			spikes += out[k];
		printf("host: %zu steps, %zu inputs, %zu outputs, %zu output spikes -> %s\n",
		       steps, cols, ionpu_host_outputs(host), spikes, out_path);
	}
	ionpu_host_free(host);
	free(in);
	free(out);
	return err ? EXIT_ERROR : EXIT_OK;
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
		{ "host", no_argument, NULL, 'H' },
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "tiles", required_argument, NULL, 't' },
		{ "dt", required_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ionpu_card_desc card;
	struct ionpu_network *net;
	struct ionpu_plan *plan;
	const char *in_path = NULL, *out_path = NULL;
	bool want_plan = false, want_host = false;
	uint32_t tiles = 16;
	double dt = 1e-3;
	char *end;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "pi:o:t:Vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			want_plan = true;
			break;
		case 'H':
			want_host = true;
			break;
		case 'i':
			in_path = optarg;
			break;
		case 'o':
			out_path = optarg;
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
	if (optind != argc - 1 || want_plan == want_host ||
	    (want_host != (in_path && out_path))) {
		if (!want_plan && !want_host && optind == argc - 1)
			fprintf(stderr, "ionpu-run: running on a card is not available in this version; use --host or --plan\n");
		else
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
	if (err) {
		fprintf(stderr, "ionpu-run: %s: %s\n", argv[optind], ionpu_last_error());
		ionpu_network_free(net);
		return err == -ENOSPC || err == -ERANGE ? EXIT_NO_FIT : EXIT_ERROR;
	}
	if (want_host) {
		err = run_host(net, plan, in_path, out_path);
		ionpu_plan_free(plan);
		ionpu_network_free(net);
		return err;
	}
	ionpu_network_free(net);
	err = ionpu_plan_dump(plan, stdout);
	ionpu_plan_free(plan);
	if (err || fflush(stdout)) {
		fprintf(stderr, "ionpu-run: cannot write the plan\n");
		return EXIT_ERROR;
	}
	return EXIT_OK;
}
