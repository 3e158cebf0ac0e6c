// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu-run: run a NIR graph on an IONPU card.  By default it compiles the
 * graph for the card, loads it and runs the input raster there.  --plan
 * maps the graph onto a card and prints the mapping; --host runs it on the
 * host reference, the card's model core in software.  Neither needs a
 * card, so they answer "does my network fit, and what does it compute"
 * anywhere; in ideal mode the card's output equals --host's bit for bit.
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

static bool ends_with(const char *s, const char *suffix);

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ionpu-run --input=IN --output=OUT.npy [OPTION]... GRAPH.nir\n"
		"  or:  ionpu-run --host --input=IN --output=OUT.npy [OPTION]... GRAPH.nir\n"
		"  or:  ionpu-run --plan [OPTION]... GRAPH.nir\n"
		"Run a NIR graph on an IONPU card, or on the host reference, or print its mapping.\n"
		"\n"
		"  -d, --device=CARD  the card: /dev/ionpuN, its index N or its PCI address\n"
		"                     (default: the first card the driver serves)\n"
		"      --physical     run the card in physical mode (device noise, diffusive-\n"
		"                     memristor neurons) instead of ideal mode\n"
		"  -v, --verbose      print the weight programming report to stderr\n"
		"  -p, --plan         map the graph offline and print the plan (no card needed)\n"
		"      --host         run the graph on the host reference, the card's model in\n"
		"                     software with no noise (no card needed)\n"
		"  -i, --input=IN     input raster, .npy or .csv: one row per time step, one\n"
		"                     column per input channel (1 = spike, or graded values)\n"
		"  -o, --output=OUT   output raster to write, .npy of uint8: one row per time\n"
		"                     step, one column per output neuron\n"
		"  -t, --tiles=N      --plan and --host: the card has N tiles (default 16)\n"
		"      --dt=SECONDS   length of a time step (default 0.001)\n"
		"  -V, --version      show the version and exit\n"
		"  -h, --help         show this help and exit\n"
		"\n"
		"Exit status: 0 if the graph fits (and ran), 1 on an error, 2 if it does not fit.\n");
}

/* Runs of this many steps: whole input windows (see ionpu_host_run()). */
#define STEPS_PER_RUN 1024

static int read_raster(const char *path, float **in, size_t *steps,
		       size_t *cols)
{
	int err = ends_with(path, ".csv") ?
			  ionpu_csv_read(path, in, steps, cols) :
			  ionpu_npy_read(path, in, steps, cols);

	if (err)
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
	return err;
}

/* The output raster to @path and the summary line. */
static int write_raster(const char *what, const char *path, const uint8_t *out,
			size_t steps, size_t n_in, size_t n_out)
{
	size_t spikes = 0;

	if (ionpu_npy_write(path, IONPU_NPY_U8, out, steps, n_out)) {
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
		return EXIT_ERROR;
	}
	for (size_t k = 0; k < steps * n_out; k++)
		spikes += out[k];
	printf("%s: %zu steps, %zu inputs, %zu outputs, %zu output spikes -> %s\n",
	       what, steps, n_in, n_out, spikes, path);
	return EXIT_OK;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

static int check_columns(const char *in_path, size_t cols, size_t n_in)
{
	if (cols == n_in)
		return 0;
	fprintf(stderr,
		"ionpu-run: %s: %zu columns, the graph has %zu input channels\n",
		in_path, cols, n_in);
	return -EINVAL;
}

/*
 * Run @plan of @net on the host reference: raster from @in_path to @out_path.
 */
static int run_host(const struct ionpu_network *net,
		    const struct ionpu_plan *plan, const char *in_path,
		    const char *out_path)
{
	struct ionpu_host *host = NULL;
	float *in = NULL;
	uint8_t *out = NULL;
	size_t steps, cols;
	int err;

	if (read_raster(in_path, &in, &steps, &cols))
		return EXIT_ERROR;
	err = ionpu_host_new(net, plan, &host);
	if (err) {
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
		goto out;
	}
	err = check_columns(in_path, cols, ionpu_host_inputs(host));
	if (err)
		goto out;
	out = calloc(steps * ionpu_host_outputs(host) + 1, 1);
	if (!out) {
		fprintf(stderr, "ionpu-run: out of memory\n");
		err = -ENOMEM;
		goto out;
	}
	err = ionpu_host_run(host, in, steps, out);
	if (err) {
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
		goto out;
	}
	err = write_raster("host", out_path, out, steps, cols,
			   ionpu_host_outputs(host));
out:
	ionpu_host_free(host);
	free(in);
	free(out);
	return err ? EXIT_ERROR : EXIT_OK;
}

/* The first card the driver serves, as ionpu_open() takes it. */
static int first_card(char *node, size_t size)
{
	struct ionpu_card *cards;
	size_t n, i;

	if (ionpu_list(NULL, &cards, &n)) {
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
		return -1;
	}
	for (i = 0; i < n && !cards[i].driver_bound; i++)
		;
	if (i < n)
		snprintf(node, size, "%s", cards[i].node);
	else
		fprintf(stderr,
			"ionpu-run: no card is served by the ionpu driver\n");
	ionpu_list_free(cards);
	return i < n ? 0 : -1;
}

static void print_report(const struct ionpu_loaded *n, uint32_t tiles)
{
	struct ionpu_program_stats s;
	uint32_t card_tile;

	for (uint32_t t = 0; t < tiles; t++) {
		if (ionpu_loaded_tile_report(n, t, &card_tile, &s))
			break;
		fprintf(stderr,
			"tile %u (card tile %u): %llu cells, %llu pulses, error %.4f uS mean, %.4f max, weight error %.4g mean, %.4g max, %llu stuck, %llu remapped, %llu failed\n",
			t, card_tile, (unsigned long long)s.cells,
			(unsigned long long)s.pulses, s.mean_error_us,
			s.max_error_us, s.mean_weight_error, s.max_weight_error,
			(unsigned long long)s.stuck,
			(unsigned long long)s.remapped,
			(unsigned long long)s.failed);
	}
	ionpu_loaded_report(n, &s);
	fprintf(stderr,
		"programmed: %llu cells on %u tiles, %llu pulses, error %.4f uS mean, %.4f max, weight error %.4g mean, %.4g max, %llu stuck, %llu remapped, %llu failed\n",
		(unsigned long long)s.cells, tiles,
		(unsigned long long)s.pulses, s.mean_error_us, s.max_error_us,
		s.mean_weight_error, s.max_weight_error,
		(unsigned long long)s.stuck, (unsigned long long)s.remapped,
		(unsigned long long)s.failed);
}

enum run_target {
	RUN_CARD,
	RUN_HOST, /* --host */
	RUN_PLAN, /* --plan: only map the graph */
};

struct run_options {
	enum run_target target;
	const char *graph;
	const char *device;
	const char *in_path;
	const char *out_path;
	bool verbose;
	uint32_t tiles; /* --plan and --host */
	double dt;
	struct ionpu_load_opts load;
};

/* The runs of whole input windows, the state kept from one to the next. */
static int run_windows(struct ionpu_loaded *n, const float *in, size_t steps,
		       uint8_t *out)
{
	size_t n_in = ionpu_loaded_inputs(n), n_out = ionpu_loaded_outputs(n);

	for (size_t t = 0; t < steps; t += STEPS_PER_RUN) {
		size_t k = steps - t < STEPS_PER_RUN ? steps - t :
						       STEPS_PER_RUN;
		int err = ionpu_loaded_run(n, in + t * n_in, k,
					   t ? IONPU_RUN_KEEP_STATE : 0,
					   out + t * n_out);

		if (err) {
			fprintf(stderr, "ionpu-run: steps %zu..%zu: %s\n", t,
				t + k - 1, ionpu_last_error());
			return err;
		}
	}
	return 0;
}

/*
 * Run @plan of @net on the card @dev, in runs of whole input windows with
 * the state kept, so it gives what the host reference gives in one go.
 */
static int run_card(struct ionpu_dev *dev, const struct ionpu_network *net,
		    const struct ionpu_plan *plan, const struct run_options *o)
{
	struct ionpu_plan_stats ps;
	struct ionpu_loaded *n = NULL;
	float *in = NULL;
	uint8_t *out = NULL;
	size_t steps, cols;
	int err;

	if (read_raster(o->in_path, &in, &steps, &cols))
		return EXIT_ERROR;
	err = ionpu_load(dev, net, plan, &o->load, &n);
	if (err) {
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
		goto out;
	}
	ionpu_plan_stats(plan, &ps);
	if (o->verbose)
		print_report(n, ps.tiles);
	err = check_columns(o->in_path, cols, ionpu_loaded_inputs(n));
	if (err)
		goto out;
	out = calloc(steps * ionpu_loaded_outputs(n) + 1, 1);
	if (!out) {
		fprintf(stderr, "ionpu-run: out of memory\n");
		err = -ENOMEM;
		goto out;
	}
	err = run_windows(n, in, steps, out);
	if (err)
		goto out;
	err = write_raster("card", o->out_path, out, steps, cols,
			   ionpu_loaded_outputs(n));
out:
	ionpu_unload(n);
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

static bool parse_time(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v > 0) || !isfinite(v))
		return false;
	*out = v;
	return true;
}

/* Which of --plan and --host were given. */
enum run_mode_flags {
	WANT_PLAN = 1 << 0,
	WANT_HOST = 1 << 1,
};

/*
 * Option @opt of getopt_long() into @o and @want: -1 to go on, otherwise
 * the exit status (after --help, --version or an error).
 */
static int take_option(int opt, struct run_options *o, unsigned int *want)
{
	switch (opt) {
	case 'p':
		*want |= WANT_PLAN;
		return -1;
	case 'H':
		*want |= WANT_HOST;
		return -1;
	case 'd':
		o->device = optarg;
		return -1;
	case 'P':
		o->load.flags |= IONPU_LOAD_PHYSICAL;
		return -1;
	case 'v':
		o->verbose = true;
		return -1;
	case 'i':
		o->in_path = optarg;
		return -1;
	case 'o':
		o->out_path = optarg;
		return -1;
	case 't':
		if (parse_uint(optarg, 1u << 16, &o->tiles))
			return -1;
		fprintf(stderr,
			"ionpu-run: --tiles: '%s' is not a tile count\n",
			optarg);
		return EXIT_ERROR;
	case 'T':
		if (parse_time(optarg, &o->dt))
			return -1;
		fprintf(stderr,
			"ionpu-run: --dt: '%s' is not a positive time\n",
			optarg);
		return EXIT_ERROR;
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

/*
 * -1: go on with @o; otherwise the exit status (after --help, --version or an
 * error).
 */
static int parse_options(int argc, char **argv, struct run_options *o)
{
	static const struct option longopts[] = {
		{ "plan", no_argument, NULL, 'p' },
		{ "host", no_argument, NULL, 'H' },
		{ "device", required_argument, NULL, 'd' },
		{ "physical", no_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "tiles", required_argument, NULL, 't' },
		{ "dt", required_argument, NULL, 'T' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int want = 0;
	int opt, status;

	while ((opt = getopt_long(argc, argv, "pd:vi:o:t:Vh", longopts,
				  NULL)) != -1) {
		status = take_option(opt, o, &want);
		if (status >= 0)
			return status;
	}
	if (optind != argc - 1 || want == (WANT_PLAN | WANT_HOST) ||
	    (!(want & WANT_PLAN) != (o->in_path && o->out_path))) {
		usage(stderr);
		return EXIT_ERROR;
	}
	o->graph = argv[optind];
	o->target = want & WANT_PLAN ? RUN_PLAN :
		    want & WANT_HOST ? RUN_HOST :
				       RUN_CARD;
	return -1;
}

/* On a card, the card says what it has; otherwise a card of --tiles tiles. */
static int card_of(const struct run_options *o, struct ionpu_dev **dev,
		   struct ionpu_card_desc *card)
{
	char node[IONPU_NODE_SIZE];
	const char *device = o->device;

	if (o->target != RUN_CARD) {
		ionpu_card_desc_default(o->tiles, card);
		return 0;
	}
	if (!device && first_card(node, sizeof(node)) == 0)
		device = node;
	if (!device)
		return -ENODEV;
	if (ionpu_open(device, dev) || ionpu_card_desc_of(*dev, card)) {
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
		ionpu_close(*dev);
		*dev = NULL;
		return -ENODEV;
	}
	return 0;
}

static int print_plan(const struct ionpu_plan *plan)
{
	if (ionpu_plan_dump(plan, stdout) || fflush(stdout)) {
		fprintf(stderr, "ionpu-run: cannot write the plan\n");
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct run_options o = { .tiles = 16, .dt = 1e-3 };
	struct ionpu_card_desc card;
	struct ionpu_network *net;
	struct ionpu_plan *plan;
	struct ionpu_dev *dev = NULL;
	int status, err;

	status = parse_options(argc, argv, &o);
	if (status >= 0)
		return status;
	err = ionpu_nir_load(o.graph, &net);
	if (err) {
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
		return EXIT_ERROR;
	}
	status = EXIT_ERROR;
	if (card_of(&o, &dev, &card))
		goto out_net;
	card.dt = o.dt;
	err = ionpu_compile(net, &card, &plan);
	if (err) {
		fprintf(stderr, "ionpu-run: %s: %s\n", o.graph,
			ionpu_last_error());
		status = err == -ENOSPC || err == -ERANGE ? EXIT_NO_FIT :
							    EXIT_ERROR;
		goto out_dev;
	}
	switch (o.target) {
	case RUN_PLAN:
		status = print_plan(plan);
		break;
	case RUN_HOST:
		status = run_host(net, plan, o.in_path, o.out_path);
		break;
	case RUN_CARD:
		status = run_card(dev, net, plan, &o);
		break;
	}
	ionpu_plan_free(plan);
out_dev:
	ionpu_close(dev);
out_net:
	ionpu_network_free(net);
	return status;
}
