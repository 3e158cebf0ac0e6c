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
#include <time.h>

#include <ionpu/ionpu.h>

#include "ionpu_exit.h"
#include "ionpu_json.h"
#include "ionpu_progress.h"

/*
 * The learning rule's defaults: what learns the digits' output layer from
 * few examples (examples/digits/learn.py).
 */
#define DEFAULT_AMP_POT 1.0
#define DEFAULT_AMP_DEP 0.5
#define DEFAULT_PRE_REF 16.0
#define DEFAULT_POST_TARGET 8u
/* 256 x 256, every cell of an IONPU-1 tile: no example is cut short. */
#define LEARN_MAX_PULSES 65536u

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ionpu-run --input=IN --output=OUT [OPTION]... GRAPH.nir\n"
		"  or:  ionpu-run --host --input=IN --output=OUT [OPTION]... GRAPH.nir\n"
		"  or:  ionpu-run --plan [OPTION]... GRAPH.nir\n"
		"  or:  ionpu-run [--host] --learn=EXAMPLES --labels=LABELS [OPTION]... GRAPH.nir\n"
		"Run a NIR graph on an IONPU card, or on the host reference, or print its mapping;\n"
		"or have the card (or the host reference) learn a population from examples.\n"
		"\n"
		"  -d, --device=CARD  the card: /dev/ionpuN, its index N or its PCI address\n"
		"                     (default: the first card the driver serves)\n"
		"      --physical     run the card in physical mode (device noise, diffusive-\n"
		"                     memristor neurons) instead of ideal mode\n"
		"  -v, --verbose      on a card: print the weight programming report\n"
		"  -p, --plan         map the graph offline and print the plan (no card needed)\n"
		"      --host         run the graph on the host reference, the card's model in\n"
		"                     software with no noise (no card needed)\n"
		"  -i, --input=IN     input raster, .npy or .csv (- for stdin): one row per\n"
		"                     time step, one column per input channel (1 = spike, or\n"
		"                     graded values); a 3-D .npy is a batch (samples x steps\n"
		"                     x channels), each sample run from rest, as one stream\n"
		"  -o, --output=OUT   output raster to write, .npy (uint8) or .csv as its name\n"
		"                     ends (- for stdout): one row per time step, one column\n"
		"                     per output neuron (a batch's is 3-D: .npy only)\n"
		"  -f, --format=FMT   npy or csv: the format of what - reads or writes\n"
		"  -l, --labels=FILE  one class per sample (.npy or .csv, one column; - for\n"
		"                     stdin): score the predictions (the output neuron that\n"
		"                     fired most; a tie goes to the first to fire, then the\n"
		"                     lowest index)\n"
		"  -j, --json=FILE    write a summary as JSON (- for stdout): timings, activity\n"
		"                     and modeled energy, predictions, accuracy\n"
		"  -t, --tiles=N      --plan and --host: the card has N tiles, 1 to 64 (default 16)\n"
		"      --dt=SECONDS   length of a time step (default 0.001)\n"
		"      --allow-unstable  run a graph with a time constant shorter than the\n"
		"                     time step, where forward Euler overshoots (refused\n"
		"                     otherwise)\n"
		"\n"
		"Learning (before --input runs, on the same card or host reference):\n"
		"      --learn=EXAMPLES  labelled examples, as --input (a 3-D .npy is one\n"
		"                     example per sample); --labels then gives their classes\n"
		"      --learn-node=NAME  the population to learn (default: the graph's one\n"
		"                     output population); it gets a tile of its own\n"
		"      --from-zero    start its weights at zero instead of the graph's\n"
		"      --epochs=N     present the examples N times (default 1)\n"
		"      --amp-pot=A    potentiating pulse, 0..1 of a full pulse (default %g)\n"
		"      --amp-dep=A    depressing pulse, 0..1 (default %g)\n"
		"      --pre-ref=N    input events of a row for a full pulse (default %g)\n"
		"      --post-target=N  spikes of the taught neuron that stop potentiation\n"
		"                     (default %u)\n"
		"      --save-nir=FILE  write the graph with the learned weights read back\n"
		"      --test-labels=FILE  score --input's predictions against these\n"
		"  -V, --version      show the version and exit\n"
		"  -h, --help         show this help and exit\n"
		"\n"
		"The summary lines go to stderr, so stdout carries only data (the plan, - files).\n"
		"\n"
		"Exit status: 0 if the graph fits (and ran), 1 on an error, 2 on a usage error,\n"
		"3 if there is no card or no access to it, 4 if its tiles are in use, 5 if the\n"
		"graph does not fit.\n",
		DEFAULT_AMP_POT, DEFAULT_AMP_DEP, DEFAULT_PRE_REF,
		DEFAULT_POST_TARGET);
}

enum run_target {
	RUN_CARD,
	RUN_HOST, /* --host */
	RUN_PLAN, /* --plan: only map the graph */
};

/* The formats of raster files, by the name's ending or --format for -. */
enum data_format {
	FORMAT_NONE,
	FORMAT_NPY,
	FORMAT_CSV,
};

struct run_options {
	enum run_target target;
	const char *graph;
	const char *device;
	const char *in_path;	 /* as given: "-" is stdin */
	const char *out_path;	 /* as given: "-" is stdout */
	const char *labels_path; /* --labels */
	enum data_format in_format, out_format, labels_format;
	enum data_format stream_format; /* --format: what "-" carries */
	const char *json_path;		/* --json */
	bool verbose;
	uint32_t tiles; /* --plan and --host */
	bool tiles_given;
	double dt;
	uint32_t compile_flags; /* --allow-unstable, --from-zero */
	struct ionpu_load_opts load;
	/* --learn: the examples, their labels (--labels) and the rule. */
	const char *learn_path;
	enum data_format learn_format;
	const char *learn_node;	      /* --learn-node, or the output */
	const char *test_labels_path; /* --test-labels: --input's */
	enum data_format test_labels_format;
	const char *save_nir;
	uint32_t epochs;
	bool learn_flags; /* a flag only --learn takes was given */
	struct ionpu_learn_rule rule;
};

/* Runs of this many steps: whole input windows (see ionpu_host_run()). */
#define STEPS_PER_RUN 1024

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

static bool is_stdio(const char *path)
{
	return !strcmp(path, "-");
}

/* What the library opens for @path: "-" is the process's own stream. */
static const char *open_path(const char *path, const char *stream)
{
	return is_stdio(path) ? stream : path;
}

/*
 * The format of the file @path given to --@opt: "-" takes --format's, a
 * name its ending's.  Anything else is refused (a usage error), so that a
 * file named .csv never holds NumPy bytes.
 */
static int format_of(const char *opt, const char *path, enum data_format stream,
		     enum data_format *out)
{
	if (is_stdio(path)) {
		*out = stream;
		if (stream != FORMAT_NONE)
			return 0;
		fprintf(stderr,
			"ionpu-run: --%s -: say what it carries with --format=npy or --format=csv\n",
			opt);
		return -EINVAL;
	}
	*out = ends_with(path, ".npy") ? FORMAT_NPY :
	       ends_with(path, ".csv") ? FORMAT_CSV :
					 FORMAT_NONE;
	if (*out != FORMAT_NONE)
		return 0;
	fprintf(stderr,
		"ionpu-run: --%s %s: the name ends in neither .npy nor .csv (- with --format for stdio)\n",
		opt, path);
	return -EINVAL;
}

/*
 * The input: one raster (a 2-D .npy or a CSV file) or a batch of them (a
 * 3-D .npy: samples x steps x channels).
 */
struct input {
	float *data;
	size_t samples, steps, cols;
	bool batch;
};

static int read_input(const char *path, enum data_format format,
		      struct input *in)
{
	int err;

	memset(in, 0, sizeof(*in));
	path = open_path(path, "/dev/stdin");
	if (format == FORMAT_CSV) {
		in->samples = 1;
		err = ionpu_csv_read(path, &in->data, &in->steps, &in->cols);
	} else {
		int ndim = 2;

		err = ionpu_npy_read_batch(path, &in->data, &in->samples,
					   &in->steps, &in->cols, &ndim);
		in->batch = ndim == 3;
	}
	if (err)
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
	return err;
}

/* Labels: one whole number per sample, .npy or CSV, as one column. */
static int read_labels(const char *path, enum data_format format,
		       size_t samples, size_t n_out, int32_t **out)
{
	const char *file = open_path(path, "/dev/stdin");
	size_t rows, cols;
	float *v;
	int32_t *labels;
	int err;

	err = format == FORMAT_CSV ? ionpu_csv_read(file, &v, &rows, &cols) :
				     ionpu_npy_read(file, &v, &rows, &cols);
	if (err) {
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
		return err;
	}
	if (cols != 1 || rows != samples) {
		fprintf(stderr,
			"ionpu-run: %s: %zu x %zu labels; the input has %zu samples (want one column)\n",
			path, rows, cols, samples);
		free(v);
		return -EINVAL;
	}
	labels = malloc(rows * sizeof(*labels));
	if (!labels) {
		free(v);
		fprintf(stderr, "ionpu-run: out of memory\n");
		return -ENOMEM;
	}
	for (size_t k = 0; k < rows; k++) {
		if (v[k] != floorf(v[k]) || v[k] < 0 || v[k] >= (float)n_out) {
			fprintf(stderr,
				"ionpu-run: %s: label %zu is %g, not an output neuron 0..%zu\n",
				path, k, v[k], n_out - 1);
			free(v);
			free(labels);
			return -EINVAL;
		}
		labels[k] = (int32_t)v[k];
	}
	free(v);
	*out = labels;
	return 0;
}

/* What runs a graph: the host reference, or a network loaded on a card. */
struct runner {
	const char *name; /* "host" or "card" */
	struct ionpu_host *host;
	struct ionpu_loaded *loaded;
	struct ionpu_dev *dev;
	bool physical;
};

static size_t runner_inputs(const struct runner *t)
{
	return t->host ? ionpu_host_inputs(t->host) :
			 ionpu_loaded_inputs(t->loaded);
}

static size_t runner_outputs(const struct runner *t)
{
	return t->host ? ionpu_host_outputs(t->host) :
			 ionpu_loaded_outputs(t->loaded);
}

static int runner_activity(const struct runner *t, struct ionpu_activity *a)
{
	if (t->host) {
		ionpu_host_activity(t->host, a);
		return 0;
	}
	return ionpu_loaded_activity(t->loaded, a);
}

/*
 * Samples of a batch per call while a progress bar is shown: the queue's
 * depth, so the card's pipeline stays full between two updates.
 */
#define SAMPLES_PER_UPDATE 64

/* Samples @first to @first + @n - 1 of a batch, each from rest. */
static int run_samples(const struct runner *t, const struct input *in,
		       size_t first, size_t n, uint8_t *out)
{
	const float *data = in->data + first * in->steps * in->cols;
	uint8_t *o = out + first * in->steps * runner_outputs(t);

	return t->host ?
		       ionpu_host_run_batch(t->host, data, n, in->steps, o) :
		       ionpu_loaded_run_batch(t->loaded, data, n, in->steps, o);
}

/*
 * A batch, each sample from rest, in one call; on a terminal in calls of
 * SAMPLES_PER_UPDATE with a progress bar.  *@first: the first sample of the
 * call that failed, which the library's message counts from.
 */
static int run_batch(const struct runner *t, const struct input *in,
		     uint8_t *out, size_t *first)
{
	struct ionpu_progress bar;
	size_t chunk, k;
	int err = 0;

	ionpu_progress_start(&bar, "samples", in->samples);
	chunk = bar.shown ? SAMPLES_PER_UPDATE : in->samples;
	for (*first = 0; *first < in->samples; *first += k) {
		k = in->samples - *first < chunk ? in->samples - *first : chunk;
		err = run_samples(t, in, *first, k, out);
		if (err)
			break;
		ionpu_progress_update(&bar, *first + k);
	}
	ionpu_progress_end(&bar);
	return err;
}

/*
 * One raster, in runs of whole input windows with the state kept, so the
 * card gives what the host reference gives in one go, with a progress bar
 * on a terminal; or a batch, each sample from rest.
 */
static int runner_run(const struct runner *t, const struct input *in,
		      uint8_t *out, size_t *first)
{
	size_t n_in = in->cols, n_out = runner_outputs(t);
	struct ionpu_progress bar;
	int err = 0;

	*first = 0;
	if (in->batch)
		return run_batch(t, in, out, first);
	if (t->host)
		return ionpu_host_run(t->host, in->data, in->steps, out);
	ionpu_progress_start(&bar, "steps", in->steps);
	for (size_t s = 0; s < in->steps && !err; s += STEPS_PER_RUN) {
		size_t k = in->steps - s < STEPS_PER_RUN ? in->steps - s :
							   STEPS_PER_RUN;

		err = ionpu_loaded_run(t->loaded, in->data + s * n_in, k,
				       s ? IONPU_RUN_KEEP_STATE : 0,
				       out + s * n_out);
		ionpu_progress_update(&bar, s + k);
	}
	ionpu_progress_end(&bar);
	return err;
}

/*
 * A run's failure, naming the input file; a batch run in parts has the
 * library count samples from the part's first, which is put right here.
 */
static void print_run_error(const char *in_path, size_t first)
{
	const char *msg = ionpu_last_error();
	size_t sample;
	int used = 0;

	if (first && sscanf(msg, "sample %zu: %n", &sample, &used) == 1 && used)
		fprintf(stderr, "ionpu-run: %s: sample %zu: %s\n", in_path,
			first + sample, msg + used);
	else
		fprintf(stderr, "ionpu-run: %s: %s\n", in_path, msg);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* What learning did, for the summary. */
struct learned {
	const char *node;
	size_t examples; /* presented: samples x epochs */
	uint64_t pulses;
	uint64_t energy_fj;
	double seconds;
};

/* What a run did, for the summary. */
struct result {
	const struct input *in;
	const uint8_t *out;
	size_t n_out;
	uint32_t *counts;      /* samples x n_out output spikes */
	uint32_t *predicted;   /* per sample */
	const int32_t *labels; /* or NULL */
	size_t correct;
	double seconds;
	struct ionpu_activity act; /* during the run */
	struct ionpu_program_stats prog;
	bool have_prog;
	const struct learned *learned; /* or NULL */
};

/*
 * Spike counts and predictions: the output neuron that fired most; a tie
 * goes to the one that fired first, then to the lowest index, and a sample
 * with no output spike predicts 0.
 */
static int score(struct result *r)
{
	const struct input *in = r->in;
	size_t *first = calloc(r->n_out + 1, sizeof(*first));

	r->counts = calloc(in->samples * r->n_out + 1, sizeof(*r->counts));
	r->predicted = calloc(in->samples + 1, sizeof(*r->predicted));
	if (!first || !r->counts || !r->predicted) {
		free(first);
		return -ENOMEM;
	}
	for (size_t s = 0; s < in->samples; s++) {
		const uint8_t *o = r->out + s * in->steps * r->n_out;
		uint32_t *c = r->counts + s * r->n_out, best = 0;

		for (size_t j = 0; j < r->n_out; j++)
			first[j] = in->steps;
		for (size_t k = 0; k < in->steps * r->n_out; k++) {
			size_t j = k % r->n_out;

			c[j] += o[k];
			if (o[k] && first[j] == in->steps)
				first[j] = k / r->n_out;
		}
		for (uint32_t j = 1; j < r->n_out; j++)
			if (c[j] > c[best] ||
			    (c[j] == c[best] && first[j] < first[best]))
				best = j;
		r->predicted[s] = best;
		if (r->labels && best == (uint32_t)r->labels[s])
			r->correct++;
	}
	free(first);
	return 0;
}

static void json_activity(FILE *fp, const struct ionpu_activity *a)
{
	fprintf(fp,
		"{\"timesteps\": %llu, \"spikes_in\": %llu, \"spikes_out\": %llu, \"synaptic_events\": %llu, \"program_pulses\": %llu, \"busy_s\": %.9g, \"energy_j\": %.9g}",
		(unsigned long long)a->timesteps,
		(unsigned long long)a->spikes_in,
		(unsigned long long)a->spikes_out,
		(unsigned long long)a->synaptic_events,
		(unsigned long long)a->program_pulses, a->busy_ns * 1e-9,
		a->energy_fj * 1e-15);
}

static void json_learned(FILE *fp, const struct learned *l)
{
	fprintf(fp, "  \"learning\": {\"node\": ");
	json_string(fp, l->node);
	fprintf(fp,
		", \"examples\": %zu, \"pulses\": %llu, \"energy_j\": %.9g, \"seconds\": %.9g},\n",
		l->examples, (unsigned long long)l->pulses,
		l->energy_fj * 1e-15, l->seconds);
}

/* The summary as JSON (docs/tools.md gives its keys). */
static int write_json(const char *path, const char *graph,
		      const struct runner *t, const struct result *r)
{
	const struct input *in = r->in;
	double n = (double)in->samples;
	FILE *fp = strcmp(path, "-") ? fopen(path, "w") : stdout;
	int bad;

	if (!fp) {
		fprintf(stderr, "ionpu-run: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fprintf(fp, "{\n  \"graph\": \"");
	for (const char *c = graph; *c; c++)
		fprintf(fp,
			*c == '"' || *c == '\\'	 ? "\\%c" :
			(unsigned char)*c < 0x20 ? "\\u%04x" :
						   "%c",
			*c);
	fprintf(fp, "\",\n  \"target\": \"%s\",\n  \"mode\": \"%s\",\n",
		t->name, t->physical ? "physical" : "ideal");
	fprintf(fp,
		"  \"samples\": %zu,\n  \"steps\": %zu,\n  \"inputs\": %zu,\n  \"outputs\": %zu,\n",
		in->samples, in->steps, in->cols, r->n_out);
	fprintf(fp,
		"  \"run_seconds\": %.9g,\n  \"inferences_per_s\": %.9g,\n  \"activity\": ",
		r->seconds, r->seconds > 0 ? n / r->seconds : 0);
	json_activity(fp, &r->act);
	fprintf(fp,
		",\n  \"per_inference\": {\"spikes\": %.9g, \"synaptic_events\": %.9g, \"energy_j\": %.9g},\n",
		r->act.spikes_out / n, r->act.synaptic_events / n,
		r->act.energy_fj * 1e-15 / n);
	if (r->have_prog)
		fprintf(fp,
			"  \"programming\": {\"cells\": %llu, \"pulses\": %llu, \"stuck\": %llu, \"remapped\": %llu, \"failed\": %llu, \"mean_error_us\": %.9g, \"max_error_us\": %.9g},\n",
			(unsigned long long)r->prog.cells,
			(unsigned long long)r->prog.pulses,
			(unsigned long long)r->prog.stuck,
			(unsigned long long)r->prog.remapped,
			(unsigned long long)r->prog.failed,
			r->prog.mean_error_us, r->prog.max_error_us);
	if (r->labels)
		fprintf(fp, "  \"correct\": %zu,\n  \"accuracy\": %.9g,\n",
			r->correct, r->correct / n);
	if (r->learned)
		json_learned(fp, r->learned);
	fprintf(fp, "  \"predictions\": [");
	for (size_t s = 0; s < in->samples; s++)
		fprintf(fp, "%s%u", s ? ", " : "", r->predicted[s]);
	fprintf(fp, "],\n  \"spike_counts\": [");
	for (size_t s = 0; s < in->samples; s++) {
		fprintf(fp, "%s[", s ? ", " : "");
		for (size_t j = 0; j < r->n_out; j++)
			fprintf(fp, "%s%u", j ? ", " : "",
				r->counts[s * r->n_out + j]);
		fprintf(fp, "]");
	}
	fprintf(fp, "]\n}\n");
	bad = ferror(fp);
	if (fp != stdout)
		bad |= fclose(fp);
	else
		bad |= fflush(fp);
	if (bad) {
		fprintf(stderr, "ionpu-run: %s: write error\n", path);
		return -EIO;
	}
	return 0;
}

/* What the counters moved by between the readings @before and @after. */
static struct ionpu_activity activity_delta(const struct ionpu_activity *after,
					    const struct ionpu_activity *before)
{
	return (struct ionpu_activity){
		.timesteps = after->timesteps - before->timesteps,
		.spikes_in = after->spikes_in - before->spikes_in,
		.spikes_out = after->spikes_out - before->spikes_out,
		.synaptic_events =
			after->synaptic_events - before->synaptic_events,
		.program_pulses =
			after->program_pulses - before->program_pulses,
		.busy_ns = after->busy_ns - before->busy_ns,
		.energy_fj = after->energy_fj - before->energy_fj,
	};
}

/*
 * Run @in on @t, timed, with the counters read around it; 0 or -errno,
 * with the library's message printed.
 */
static int timed_run(const struct runner *t, const struct run_options *o,
		     const struct input *in, uint8_t *out, struct result *r)
{
	struct ionpu_activity before, after;
	size_t first;
	double t0;
	int err;

	err = runner_activity(t, &before);
	if (err)
		goto err_lib;
	t0 = now_s();
	err = runner_run(t, in, out, &first);
	r->seconds = now_s() - t0;
	if (err) {
		/* A value the card cannot take: say which file holds it. */
		print_run_error(o->in_path, first);
		return err;
	}
	err = runner_activity(t, &after);
	if (err)
		goto err_lib;
	r->act = activity_delta(&after, &before);
	if (t->loaded) {
		ionpu_loaded_report(t->loaded, &r->prog);
		r->have_prog = true;
	}
	return 0;

err_lib:
	fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
	return err;
}

/* A raster of uint8 as CSV: one line per time step. */
static int write_csv(const char *path, const uint8_t *out, size_t steps,
		     size_t cols)
{
	FILE *fp = fopen(path, "w");
	bool ok;

	if (!fp) {
		fprintf(stderr, "ionpu-run: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	ok = true;
	for (size_t k = 0; ok && k < steps * cols; k++)
		ok = fprintf(fp, "%u%c", out[k], (k + 1) % cols ? ',' : '\n') >
		     0;
	if (fclose(fp) || !ok) {
		fprintf(stderr, "ionpu-run: %s: write error\n", path);
		return -EIO;
	}
	return 0;
}

/* The output raster, in the format its name (or --format) says. */
static int write_output(const struct run_options *o, const struct result *r)
{
	const struct input *in = r->in;
	const char *path = open_path(o->out_path, "/dev/stdout");
	int err;

	if (o->out_format == FORMAT_CSV) {
		if (!in->batch)
			return write_csv(path, r->out, in->steps, r->n_out);
		fprintf(stderr,
			"ionpu-run: %s: the output of a batch of %zu samples is 3-D, which CSV cannot hold: write .npy\n",
			o->out_path, in->samples);
		return -EINVAL;
	}
	err = in->batch ?
		      ionpu_npy_write_batch(path, IONPU_NPY_U8, r->out,
					    in->samples, in->steps, r->n_out) :
		      ionpu_npy_write(path, IONPU_NPY_U8, r->out, in->steps,
				      r->n_out);
	if (err)
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
	return err;
}

/*
 * The output raster, the summary lines and the JSON of a finished run.  The
 * summary goes to stderr: stdout may be carrying the output or the JSON.
 */
static int report_run(const struct runner *t, const struct run_options *o,
		      struct result *r)
{
	const struct input *in = r->in;
	size_t spikes = 0;
	int err;

	err = write_output(o, r);
	if (err)
		return err;
	err = score(r);
	if (err) {
		fprintf(stderr, "ionpu-run: out of memory\n");
		return err;
	}
	for (size_t k = 0; k < in->samples * in->steps * r->n_out; k++)
		spikes += r->out[k];
	fprintf(stderr,
		"%s: %zu samples of %zu steps, %zu inputs, %zu outputs, %zu output spikes -> %s\n",
		t->name, in->samples, in->steps, in->cols, r->n_out, spikes,
		is_stdio(o->out_path) ? "stdout" : o->out_path);
	if (r->labels)
		fprintf(stderr, "%s: %zu of %zu correct (%.2f %%)\n", t->name,
			r->correct, in->samples,
			100.0 * r->correct / in->samples);
	return o->json_path ? write_json(o->json_path, o->graph, t, r) : 0;
}

/*
 * Run the input on @t; the output raster, the summary line and the JSON,
 * with what learning before it did (@learned, or NULL).
 */
static int run_input(const struct runner *t, const struct run_options *o,
		     const struct learned *learned)
{
	/* After --learn, --labels are the examples'. */
	const char *labels_path = o->learn_path ? o->test_labels_path :
						  o->labels_path;
	enum data_format labels_format = o->learn_path ? o->test_labels_format :
							 o->labels_format;
	struct input in;
	struct result r = { .in = &in, .learned = learned };
	int32_t *labels = NULL;
	uint8_t *out = NULL;
	int err;

	if (read_input(o->in_path, o->in_format, &in))
		return IONPU_EXIT_ERROR;
	r.n_out = runner_outputs(t);
	if (in.cols != runner_inputs(t)) {
		fprintf(stderr,
			"ionpu-run: %s: %zu columns, the graph has %zu input channels\n",
			o->in_path, in.cols, runner_inputs(t));
		err = -EINVAL;
		goto out;
	}
	if (labels_path) {
		err = read_labels(labels_path, labels_format, in.samples,
				  r.n_out, &labels);
		if (err)
			goto out;
		r.labels = labels;
	}
	out = calloc(in.samples * in.steps * r.n_out + 1, 1);
	if (!out) {
		fprintf(stderr, "ionpu-run: out of memory\n");
		err = -ENOMEM;
		goto out;
	}
	r.out = out;
	err = timed_run(t, o, &in, out, &r);
	if (err)
		goto out;
	err = report_run(t, o, &r);
out:
	free(r.counts);
	free(r.predicted);
	free(labels);
	free(out);
	free(in.data);
	return err ? IONPU_EXIT_ERROR : IONPU_EXIT_OK;
}

/*
 * The first card the driver serves, as ionpu_open() takes it: 0, or the
 * exit status.
 */
static int first_card(char *node, size_t size)
{
	struct ionpu_card *cards;
	size_t n, i;

	if (ionpu_list(NULL, &cards, &n)) {
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
		return IONPU_EXIT_ERROR;
	}
	for (i = 0; i < n && !cards[i].driver_bound; i++)
		;
	if (i < n)
		snprintf(node, size, "%s", cards[i].node);
	else
		fprintf(stderr,
			"ionpu-run: no card is served by the ionpu driver%s\n",
			n ? "" :
			    " (none found): --host runs the graph without one");
	ionpu_list_free(cards);
	return i < n ? 0 : IONPU_EXIT_NO_CARD;
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

/*
 * Present @ex's samples with their labels @epochs times, then freeze the
 * session and read what it did; 0 or -errno with the message printed.
 */
static int teach_examples(struct ionpu_learner *l, const struct run_options *o,
			  const struct input *ex, const int32_t *labels,
			  struct learned *sum)
{
	struct ionpu_learn_stats st;
	double t0 = now_s();
	int err = 0;

	for (uint32_t e = 0; e < o->epochs && !err; e++)
		for (size_t s = 0; s < ex->samples && !err; s++) {
			err = ionpu_learn_example(l,
						  ex->data + s * ex->steps *
								     ex->cols,
						  ex->steps,
						  (uint32_t)labels[s]);
			if (err)
				fprintf(stderr,
					"ionpu-run: %s: example %zu: %s\n",
					o->learn_path, s, ionpu_last_error());
		}
	if (err)
		return err;
	err = ionpu_learn_freeze(l);
	if (!err)
		err = ionpu_learn_stats(l, &st);
	if (err) {
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
		return err;
	}
	sum->seconds = now_s() - t0;
	sum->examples = st.examples;
	sum->pulses = st.pulses;
	sum->energy_fj = st.energy_fj;
	return 0;
}

/*
 * Learn --learn's examples on @t: the session in *@l (free it after the
 * runs), what it did in @sum; 0 or -errno with the message printed.
 */
static int learn(const struct runner *t, const struct ionpu_network *net,
		 const struct run_options *o, struct ionpu_learner **l,
		 struct learned *sum)
{
	struct ionpu_node_info node;
	struct input ex;
	int32_t *labels = NULL;
	uint32_t id;
	int err;

	if (read_input(o->learn_path, o->learn_format, &ex))
		return -EINVAL;
	err = -EINVAL;
	if (ex.cols != runner_inputs(t)) {
		fprintf(stderr,
			"ionpu-run: %s: %zu columns, the graph has %zu input channels\n",
			o->learn_path, ex.cols, runner_inputs(t));
		goto out;
	}
	ionpu_network_find(net, o->learn_node, &id);
	ionpu_network_node(net, id, &node);
	err = read_labels(o->labels_path, o->labels_format, ex.samples,
			  node.size, &labels);
	if (err)
		goto out;
	err = t->host ?
		      ionpu_host_learn_start(t->host, o->learn_node, &o->rule,
					     l) :
		      ionpu_learn_start(t->loaded, o->learn_node, &o->rule, l);
	if (err) {
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
		goto out;
	}
	sum->node = o->learn_node;
	err = teach_examples(*l, o, &ex, labels, sum);
	if (err)
		goto out;
	if (o->save_nir) {
		err = ionpu_learn_save_nir(*l, net, o->save_nir);
		if (err) {
			fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
			goto out;
		}
	}
	fprintf(stderr,
		"%s: learned '%s' from %zu examples x %u epochs: %llu pulses, %.4g nJ, %.2f s%s%s\n",
		t->name, o->learn_node, ex.samples, o->epochs,
		(unsigned long long)sum->pulses, sum->energy_fj * 1e-6,
		sum->seconds, o->save_nir ? " -> " : "",
		o->save_nir ? o->save_nir : "");
out:
	free(labels);
	free(ex.data);
	return err;
}

/*
 * On @t: learn if asked, then run the input if given; the exit status.
 */
static int learn_and_run(const struct runner *t,
			 const struct ionpu_network *net,
			 const struct run_options *o)
{
	struct ionpu_learner *l = NULL;
	struct learned sum = { 0 };
	int status = IONPU_EXIT_OK;

	if (o->learn_path && learn(t, net, o, &l, &sum))
		status = IONPU_EXIT_ERROR;
	else if (o->in_path)
		status = run_input(t, o, o->learn_path ? &sum : NULL);
	ionpu_learn_free(l);
	return status;
}

/* Run @plan of @net on the host reference. */
static int run_host(const struct ionpu_network *net,
		    const struct ionpu_plan *plan, const struct run_options *o)
{
	struct runner t = { .name = "host" };
	int status;

	if (ionpu_host_new(net, plan, &t.host)) {
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
		return IONPU_EXIT_ERROR;
	}
	status = learn_and_run(&t, net, o);
	ionpu_host_free(t.host);
	return status;
}

/*
 * Programming's progress on a bar, started at the first call, when the
 * total is known.
 */
static int show_programming(void *arg, uint64_t done, uint64_t total)
{
	struct ionpu_progress *bar = arg;

	if (!bar->what)
		ionpu_progress_start(bar, "device writes", total);
	ionpu_progress_update(bar, done);
	return 0;
}

/* Load @plan of @net on the card @dev and run it there. */
static int run_card(struct ionpu_dev *dev, const struct ionpu_network *net,
		    const struct ionpu_plan *plan, const struct run_options *o)
{
	struct runner t = {
		.name = "card",
		.dev = dev,
		.physical = o->load.flags & IONPU_LOAD_PHYSICAL,
	};
	struct ionpu_progress bar = { 0 };
	struct ionpu_plan_stats ps;
	int status, err;

	err = ionpu_load_progress(dev, net, plan, &o->load, show_programming,
				  &bar, &t.loaded);
	ionpu_progress_end(&bar);
	if (err) {
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
		/* Tiles leased by another file: busy, as ionpu-smi says it. */
		return err == -EBUSY ? IONPU_EXIT_BUSY : IONPU_EXIT_ERROR;
	}
	ionpu_plan_stats(plan, &ps);
	if (o->verbose)
		print_report(t.loaded, ps.tiles);
	status = learn_and_run(&t, net, o);
	ionpu_unload(t.loaded);
	return status;
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

static bool parse_format(const char *s, enum data_format *out)
{
	*out = !strcmp(s, "npy") ? FORMAT_NPY :
	       !strcmp(s, "csv") ? FORMAT_CSV :
				   FORMAT_NONE;
	return *out != FORMAT_NONE;
}

/* A number in [@lo, @hi] (@lo excluded when @open_lo), whole string. */
static bool parse_number(const char *s, double lo, double hi, bool open_lo,
			 double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi) ||
	    (open_lo && v == lo))
		return false;
	*out = v;
	return true;
}

/* The options only --learn takes; as take_option(). */
static int take_learn_option(int opt, struct run_options *o)
{
	unsigned long long v;
	char *end;

	o->learn_flags = true;
	switch (opt) {
	case 'N':
		o->learn_node = optarg;
		return -1;
	case 'Z':
		o->compile_flags |= IONPU_COMPILE_LEARN_FROM_ZERO;
		return -1;
	case 'S':
		o->save_nir = optarg;
		return -1;
	case 'Y':
		o->test_labels_path = optarg;
		return -1;
	case 'E':
		if (parse_uint(optarg, 1000000, &o->epochs))
			return -1;
		fprintf(stderr,
			"ionpu-run: --epochs: '%s' is not a count from 1 to 1000000\n",
			optarg);
		return IONPU_EXIT_USAGE;
	case 'A':
	case 'D':
		if (parse_number(optarg, 0, 1, false,
				 opt == 'A' ? &o->rule.amp_pot :
					      &o->rule.amp_dep))
			return -1;
		fprintf(stderr,
			"ionpu-run: --amp-%s: '%s' is not an amplitude from 0 to 1\n",
			opt == 'A' ? "pot" : "dep", optarg);
		return IONPU_EXIT_USAGE;
	case 'R':
		if (parse_number(optarg, 0, 3.4e38, true, &o->rule.pre_ref))
			return -1;
		fprintf(stderr,
			"ionpu-run: --pre-ref: '%s' is not a positive number of input events\n",
			optarg);
		return IONPU_EXIT_USAGE;
	case 'G':
		errno = 0;
		v = strtoull(optarg, &end, 10);
		if (optarg[0] >= '0' && optarg[0] <= '9' && !errno && !*end &&
		    v <= UINT32_MAX) {
			o->rule.post_target = (uint32_t)v;
			return -1;
		}
		fprintf(stderr,
			"ionpu-run: --post-target: '%s' is not a spike count from 0 to %u\n",
			optarg, UINT32_MAX);
		return IONPU_EXIT_USAGE;
	default:
		usage(stderr);
		return IONPU_EXIT_USAGE;
	}
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
	case 'f':
		if (parse_format(optarg, &o->stream_format))
			return -1;
		fprintf(stderr,
			"ionpu-run: --format: '%s' is neither npy nor csv\n",
			optarg);
		return IONPU_EXIT_USAGE;
	case 'l':
		o->labels_path = optarg;
		return -1;
	case 'j':
		o->json_path = optarg;
		return -1;
	case 't':
		o->tiles_given = true;
		if (parse_uint(optarg, IONPU_CARD_MAX_TILES, &o->tiles))
			return -1;
		fprintf(stderr,
			"ionpu-run: --tiles: '%s' is not a tile count from 1 to %u\n",
			optarg, IONPU_CARD_MAX_TILES);
		return IONPU_EXIT_USAGE;
	case 'T':
		if (parse_time(optarg, &o->dt))
			return -1;
		fprintf(stderr,
			"ionpu-run: --dt: '%s' is not a positive time\n",
			optarg);
		return IONPU_EXIT_USAGE;
	case 'U':
		o->compile_flags |= IONPU_COMPILE_ALLOW_UNSTABLE;
		return -1;
	case 'L':
		o->learn_path = optarg;
		return -1;
	default:
		return take_learn_option(opt, o);
	case 'V':
		printf("ionpu-run (libionpu %s)\n", ionpu_version());
		return IONPU_EXIT_OK;
	case 'h':
		usage(stdout);
		return IONPU_EXIT_OK;
	}
}

/* As conflict(), for the flags of learning. */
static const char *learn_conflict(const struct run_options *o)
{
	const char *l = o->labels_path, *in = o->in_path;

	if (!o->learn_path)
		return o->learn_flags ?
			       "--learn-node, --from-zero, --epochs, --amp-pot, --amp-dep, --pre-ref, --post-target, --save-nir and --test-labels are for --learn" :
			       NULL;
	if (o->target == RUN_PLAN)
		return "--plan runs nothing: it learns nothing either (no --learn)";
	if (!l)
		return "--learn needs --labels: one class per example";
	if (o->test_labels_path && !in)
		return "--test-labels scores --input: give --input";
	if ((is_stdio(o->learn_path) &&
	     ((in && is_stdio(in)) || is_stdio(l) ||
	      (o->test_labels_path && is_stdio(o->test_labels_path)))) ||
	    (is_stdio(l) &&
	     ((in && is_stdio(in)) ||
	      (o->test_labels_path && is_stdio(o->test_labels_path)))))
		return "stdin can carry one of --learn, --labels, --input and --test-labels";
	if (o->save_nir && is_stdio(o->save_nir))
		return "--save-nir writes an HDF5 file: name one (- is not a file)";
	return NULL;
}

/*
 * A flag the chosen mode would ignore, or two that contradict each other:
 * the message naming them, or NULL.
 */
static const char *conflict(const struct run_options *o)
{
	bool run = o->target != RUN_PLAN, card = o->target == RUN_CARD;
	const char *j = o->json_path, *l = o->labels_path;
	const char *why = learn_conflict(o);

	if (why)
		return why;
	if (!run && (o->in_path || o->out_path || l || j))
		return "--plan runs nothing: it takes no --input, --output, --labels or --json";
	if (run && !(o->in_path && o->out_path) &&
	    !(o->learn_path && !o->in_path && !o->out_path && !j))
		return "a run needs --input and --output (and --json summarises a run)";
	if (!card &&
	    (o->device || o->verbose || (o->load.flags & IONPU_LOAD_PHYSICAL)))
		return "--device, --verbose and --physical are for a card; --host and --plan know ideal mode only";
	if (card && o->tiles_given)
		return "--tiles is for --plan and --host: on a card the card says how many it has";
	/* Past here a run without --input only learns. */
	if (!o->in_path)
		run = false;
	if (run && is_stdio(o->out_path) && j && is_stdio(j))
		return "--output - and --json - cannot both have stdout";
	if (run && is_stdio(o->in_path) && l && is_stdio(l))
		return "--input - and --labels - cannot both have stdin";
	if (o->stream_format != FORMAT_NONE &&
	    !(run && (is_stdio(o->in_path) || is_stdio(o->out_path) ||
		      (l && is_stdio(l)))) &&
	    !(o->learn_path && (is_stdio(o->learn_path) || is_stdio(l))))
		return "--format is for - (stdin or stdout); a file's name says its format";
	return NULL;
}

/* The formats of the run's files; 0 or -EINVAL with a message. */
static int formats_of(struct run_options *o)
{
	if (o->target == RUN_PLAN)
		return 0;
	if (o->in_path &&
	    (format_of("input", o->in_path, o->stream_format, &o->in_format) ||
	     format_of("output", o->out_path, o->stream_format,
		       &o->out_format)))
		return -EINVAL;
	if (o->labels_path && format_of("labels", o->labels_path,
					o->stream_format, &o->labels_format))
		return -EINVAL;
	if (o->learn_path && format_of("learn", o->learn_path, o->stream_format,
				       &o->learn_format))
		return -EINVAL;
	if (o->test_labels_path &&
	    format_of("test-labels", o->test_labels_path, o->stream_format,
		      &o->test_labels_format))
		return -EINVAL;
	return 0;
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
		{ "format", required_argument, NULL, 'f' },
		{ "tiles", required_argument, NULL, 't' },
		{ "dt", required_argument, NULL, 'T' },
		{ "allow-unstable", no_argument, NULL, 'U' },
		{ "learn", required_argument, NULL, 'L' },
		{ "learn-node", required_argument, NULL, 'N' },
		{ "from-zero", no_argument, NULL, 'Z' },
		{ "epochs", required_argument, NULL, 'E' },
		{ "amp-pot", required_argument, NULL, 'A' },
		{ "amp-dep", required_argument, NULL, 'D' },
		{ "pre-ref", required_argument, NULL, 'R' },
		{ "post-target", required_argument, NULL, 'G' },
		{ "save-nir", required_argument, NULL, 'S' },
		{ "test-labels", required_argument, NULL, 'Y' },
		{ "labels", required_argument, NULL, 'l' },
		{ "json", required_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int want = 0;
	const char *why;
	int opt, status;

	while ((opt = getopt_long(argc, argv, "pd:vi:o:f:t:l:j:Vh", longopts,
				  NULL)) != -1) {
		status = take_option(opt, o, &want);
		if (status >= 0)
			return status;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "ionpu-run: %s\n",
			optind == argc ? "which graph? name one NIR file" :
					 "one NIR file only");
		usage(stderr);
		return IONPU_EXIT_USAGE;
	}
	if (want == (WANT_PLAN | WANT_HOST)) {
		fprintf(stderr, "ionpu-run: --plan or --host, not both\n");
		return IONPU_EXIT_USAGE;
	}
	o->graph = argv[optind];
	o->target = want & WANT_PLAN ? RUN_PLAN :
		    want & WANT_HOST ? RUN_HOST :
				       RUN_CARD;
	why = conflict(o);
	if (why) {
		fprintf(stderr, "ionpu-run: %s\n", why);
		return IONPU_EXIT_USAGE;
	}
	return formats_of(o) ? IONPU_EXIT_USAGE : -1;
}

/*
 * On a card, the card says what it has; otherwise a card of --tiles tiles.
 * 0, or the exit status.
 */
static int card_of(const struct run_options *o, struct ionpu_dev **dev,
		   struct ionpu_card_desc *card)
{
	char node[IONPU_NODE_SIZE];
	const char *device = o->device;
	int err;

	if (o->target != RUN_CARD) {
		ionpu_card_desc_default(o->tiles, card);
		return 0;
	}
	if (!device) {
		err = first_card(node, sizeof(node));
		if (err)
			return err;
		device = node;
	}
	err = ionpu_open(device, dev);
	if (!err)
		err = ionpu_card_desc_of(*dev, card);
	if (!err)
		return 0;
	fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
	if (err == -EACCES)
		fprintf(stderr,
			"ionpu-run: no access to the card's node: run it as root or as a member of the node's group\n");
	ionpu_close(*dev);
	*dev = NULL;
	return ionpu_exit_of(err);
}

static int print_plan(const struct ionpu_plan *plan)
{
	if (ionpu_plan_dump(plan, stdout) || fflush(stdout)) {
		fprintf(stderr, "ionpu-run: cannot write the plan\n");
		return IONPU_EXIT_ERROR;
	}
	return IONPU_EXIT_OK;
}

/* The graph's output population if it has exactly one, else NULL. */
static const char *output_node(const struct ionpu_network *net)
{
	size_t n = ionpu_network_node_count(net);
	const char *found = NULL;
	struct ionpu_node_info node;

	for (uint32_t id = 0; id < n; id++) {
		ionpu_network_node(net, id, &node);
		if (!node.output)
			continue;
		if (found)
			return NULL;
		found = node.name;
	}
	return found;
}

int main(int argc, char **argv)
{
	struct run_options o = {
		.tiles = 16,
		.dt = 1e-3,
		.epochs = 1,
		.rule = {
			.size = sizeof(o.rule),
			.amp_pot = DEFAULT_AMP_POT,
			.amp_dep = DEFAULT_AMP_DEP,
			.pre_ref = DEFAULT_PRE_REF,
			.post_target = DEFAULT_POST_TARGET,
			.max_pulses = LEARN_MAX_PULSES,
		},
	};
	struct ionpu_compile_opts copts = { .size = sizeof(copts) };
	struct ionpu_card_desc card;
	struct ionpu_network *net;
	struct ionpu_plan *plan;
	struct ionpu_plan_stats stats;
	struct ionpu_dev *dev = NULL;
	int status, err;

	status = parse_options(argc, argv, &o);
	if (status >= 0)
		return status;
	err = ionpu_nir_load(o.graph, &net);
	if (err) {
		fprintf(stderr, "ionpu-run: %s\n", ionpu_last_error());
		return IONPU_EXIT_ERROR;
	}
	status = IONPU_EXIT_ERROR;
	if (o.learn_path && !o.learn_node &&
	    !(o.learn_node = output_node(net))) {
		fprintf(stderr,
			"ionpu-run: %s: the graph has no single output population to learn: name one with --learn-node\n",
			o.graph);
		goto out_net;
	}
	status = card_of(&o, &dev, &card);
	if (status)
		goto out_net;
	status = IONPU_EXIT_ERROR;
	card.dt = o.dt;
	copts.flags = o.compile_flags;
	copts.learn = &o.learn_node;
	copts.n_learn = o.learn_path ? 1 : 0;
	err = ionpu_compile_with(net, &card, &copts, &plan);
	if (err) {
		fprintf(stderr, "ionpu-run: %s: %s\n", o.graph,
			ionpu_last_error());
		status = err == -ENOSPC || err == -ERANGE ? IONPU_EXIT_NO_FIT :
							    IONPU_EXIT_ERROR;
		goto out_dev;
	}
	ionpu_plan_stats(plan, &stats);
	if (!stats.outputs) {
		fprintf(stderr,
			"ionpu-run: %s: the graph has no output node: nothing would reach the output\n",
			o.graph);
		goto out_plan;
	}
	switch (o.target) {
	case RUN_PLAN:
		status = print_plan(plan);
		break;
	case RUN_HOST:
		status = run_host(net, plan, &o);
		break;
	case RUN_CARD:
		status = run_card(dev, net, plan, &o);
		break;
	}
out_plan:
	ionpu_plan_free(plan);
out_dev:
	ionpu_close(dev);
out_net:
	ionpu_network_free(net);
	return status;
}
