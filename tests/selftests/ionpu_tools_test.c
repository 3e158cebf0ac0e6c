// SPDX-License-Identifier: GPL-2.0-only
/*
 * ionpu-smi, ionpu-run and ionpu-bench on the VM's cards, as an
 * administrator and a user run them: every view's JSON is well formed and
 * names each card, the
 * Prometheus lines parse, -q names who leases a tile to root only, the CDI
 * spec names each card's node with the device number the node really has,
 * a run on each card gives the host reference's output bit for bit (through
 * files and through a pipe), and the exit statuses of tools/ionpu_exit.h
 * come out for no card, no driver, no permission, busy tiles, a bad file
 * and a bad command line; ionpu-bench measures every figure it names.
 *
 * The tools are the VM's /usr/bin ones; the graph and the inputs are the
 * digit classifier's slice in /selftests/digits/ (ionpu_digits_test's).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ionpu/ionpu.h>

#include "kselftest_harness.h"
#include "ionpu_cards.h"
#include "ionpu_json_check.h"

#define SMI		"/usr/bin/ionpu-smi"
#define RUN		"/usr/bin/ionpu-run"
#define BENCH		"/usr/bin/ionpu-bench"
#define DIGITS_DIR	"/selftests/digits"
#define GRAPH		DIGITS_DIR "/digits.nir"
#define DRIVER_DIR	"/sys/bus/pci/drivers/ionpu"
/* What the tools print on stderr, kept for the log of a failure. */
#define STDERR_LOG	"/tmp/ionpu-tools-test.err"
#define OUT_MAX		(256 * 1024)
/* The unprivileged user the no-permission cases run as. */
#define NOBODY		65534

enum as_user {
	AS_ROOT,
	AS_NOBODY,
};

/*
 * Run @cmd with /bin/sh, as @who; its stdout into @out (NUL terminated,
 * OUT_MAX at most) and its exit status returned, or -1.
 */
static int sh(enum as_user who, const char *cmd, char *out)
{
	size_t len = 0;
	int pipefd[2], status;
	ssize_t got;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int err = open(STDERR_LOG, O_WRONLY | O_CREAT | O_TRUNC, 0666);

		dup2(pipefd[1], STDOUT_FILENO);
		if (err >= 0)
			dup2(err, STDERR_FILENO);
		close(pipefd[0]);
		if (who == AS_NOBODY &&
		    (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)))
			_exit(126);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	while (len < OUT_MAX - 1 &&
	       (got = read(pipefd[0], out + len, OUT_MAX - 1 - len)) > 0)
		len += (size_t)got;
	out[len] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* What the last command printed on stderr, for TH_LOG. */
static const char *last_stderr(void)
{
	static char buf[4096];
	ssize_t n;
	int fd = open(STDERR_LOG, O_RDONLY);

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

static bool same_file(const char *a, const char *b)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cmp -s %s %s", a, b);
	return system(cmd) == 0;
}

FIXTURE(tools) {
	struct ionpu_test_card cards[IONPU_TEST_MAX_CARDS];
	int n;
	char *out;
};

FIXTURE_SETUP(tools)
{
	self->out = malloc(OUT_MAX);
	ASSERT_NE(NULL, self->out);
	self->n = ionpu_test_cards(self->cards, IONPU_TEST_MAX_CARDS);
	if (self->n <= 0)
		SKIP(return, "no ionpu card in this machine");
	if (access(SMI, X_OK) || access(RUN, X_OK))
		SKIP(return, "the tools are not in /usr/bin");
}

FIXTURE_TEARDOWN(tools)
{
	free(self->out);
}

/* The list and the query views name every card, with its serial. */
TEST_F(tools, smi_json_names_every_card)
{
	char want[128];
	const char *p;
	int k, count;

	ASSERT_EQ(0, sh(AS_ROOT, SMI " --json -q", self->out)) TH_LOG("%s", last_stderr());
	ASSERT_TRUE(json_check(self->out)) TH_LOG("not JSON: %s", self->out);
	for (count = 0, p = self->out; (p = strstr(p, "\"pci_address\":")); p++)
		count++;
	EXPECT_EQ(self->n, count);
	for (k = 0; k < self->n; k++) {
		snprintf(want, sizeof(want),
			 "\"pci_address\":\"%s\",\"driver_bound\":true,\"driver\":\"ionpu\"",
			 self->cards[k].pci);
		EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("no %s", want);
		snprintf(want, sizeof(want), "\"serial\":\"%s\",\"tiles\":%u",
			 self->cards[k].serial, self->cards[k].tiles);
		EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("no %s", want);
	}
	/* Root asks every driver: no card says why it could not. */
	EXPECT_EQ(NULL, strstr(self->out, "\"error\":\""));
	ASSERT_EQ(0, sh(AS_ROOT, SMI " --json", self->out));
	EXPECT_TRUE(json_check(self->out));
}

/*
 * Every line is a comment or "name{labels} value", each name's HELP and
 * TYPE come first, and each card is up with its counters and health.
 */
TEST_F(tools, smi_prometheus_lines_parse)
{
	char typed[64][64], want[160], *line, *save;
	int n_typed = 0, samples = 0;

	ASSERT_EQ(0, sh(AS_ROOT, SMI " --prometheus", self->out)) TH_LOG("%s", last_stderr());
	for (int k = 0; k < self->n; k++) {
		snprintf(want, sizeof(want), "ionpu_up{card=\"%s\",serial=\"%s\"} 1\n",
			 self->cards[k].pci, self->cards[k].serial);
		EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("no %s", want);
		snprintf(want, sizeof(want), "ionpu_energy_joules_total{card=\"%s\",",
			 self->cards[k].pci);
		EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("no %s", want);		/* The health the driver's sysfs shows. */
		snprintf(want, sizeof(want),
			 "ionpu_resets_total{card=\"%s\",serial=\"%s\",cause=\"hang\"} ",
			 self->cards[k].pci, self->cards[k].serial);
		EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("no %s", want);
		snprintf(want, sizeof(want), "ionpu_leased_tiles{card=\"%s\",",
			 self->cards[k].pci);
		EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("no %s", want);
	}
	for (line = strtok_r(self->out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[64], kind[16], *brace, *end;
		bool known = false;

		if (sscanf(line, "# TYPE %63s %15s", name, kind) == 2) {
			ASSERT_LT(n_typed, 64);
			EXPECT_TRUE(!strcmp(kind, "counter") || !strcmp(kind, "gauge"));
			strcpy(typed[n_typed++], name);
			continue;
		}
		if (!strncmp(line, "# HELP ", 7))
			continue;
		brace = strchr(line, '{');
		ASSERT_NE(NULL, brace) TH_LOG("not a sample: %s", line);
		for (int k = 0; k < n_typed; k++)
			known |= !strncmp(typed[k], line, (size_t)(brace - line)) &&
				 !typed[k][brace - line];
		EXPECT_TRUE(known) TH_LOG("no TYPE before %s", line);
		end = strstr(brace, "} ");
		ASSERT_NE(NULL, end) TH_LOG("no value: %s", line);
		strtod(end + 2, &brace);
		EXPECT_EQ('\0', *brace) TH_LOG("bad value: %s", line);
		samples++;
	}
	EXPECT_LT(self->n, samples);
}

/* The spec names each card's node with the device number the node has. */
TEST_F(tools, smi_cdi_names_each_node)
{
	char want[256];
	struct stat st;

	ASSERT_EQ(0, sh(AS_ROOT, SMI " cdi", self->out)) TH_LOG("%s", last_stderr());
	ASSERT_TRUE(json_check(self->out)) TH_LOG("not JSON: %s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "\"kind\": \"ionpu.example/card\""));
	EXPECT_NE(NULL, strstr(self->out, "{\"name\": \"all\""));
	for (int k = 0; k < self->n; k++) {
		const struct ionpu_test_card *c = &self->cards[k];

		ASSERT_EQ(0, stat(c->node, &st));
		ASSERT_TRUE(S_ISCHR(st.st_mode));
		snprintf(want, sizeof(want),
			 "{\"path\": \"%s\", \"type\": \"c\", \"major\": %u, \"minor\": %u, \"permissions\": \"rw\"}",
			 c->node, major(st.st_rdev), minor(st.st_rdev));
		EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("no %s", want);
		snprintf(want, sizeof(want), "{\"name\": \"%s\"", c->name + strlen("ionpu"));
		EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("no %s", want);
		snprintf(want, sizeof(want), "{\"name\": \"%s\"", c->pci);
		EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("no %s", want);
	}
	ASSERT_EQ(0, sh(AS_ROOT, SMI " cdi -o /tmp/ionpu-cdi.json && cat /tmp/ionpu-cdi.json",
			self->out));
	EXPECT_TRUE(json_check(self->out));
}

/*
 * Two samples of the digit slice, as a batch, and the first alone; the host
 * reference's outputs of both.  Fails the test when the slice is missing.
 */
static int stage_inputs(char *out)
{
	float *in;
	size_t samples, steps, cols;
	int ndim, err;

	err = ionpu_npy_read_batch(DIGITS_DIR "/test-inputs.npy", &in, &samples, &steps,
				   &cols, &ndim);
	if (err)
		return err;
	if (samples < 2)
		err = -EINVAL;
	if (!err)
		err = ionpu_npy_write_batch("/tmp/two.npy", IONPU_NPY_F32, in, 2, steps, cols);
	if (!err)
		err = ionpu_npy_write("/tmp/one.npy", IONPU_NPY_F32, in, steps, cols);
	free(in);
	if (err)
		return err;
	return sh(AS_ROOT, RUN " --host " GRAPH " -i /tmp/two.npy -o /tmp/host-two.npy && "
		  RUN " --host " GRAPH " -i /tmp/one.npy -o /tmp/host-one.npy && "
		  RUN " --host " GRAPH " -i /tmp/one.npy -o /tmp/host-one.csv", out);
}

/* On each card in ideal mode: the host reference's output, bit for bit. */
TEST_F(tools, run_on_each_card_is_the_host_reference)
{
	char cmd[512];

	if (access(GRAPH, R_OK))
		SKIP(return, GRAPH " is not staged");
	ASSERT_EQ(0, stage_inputs(self->out)) TH_LOG("%s", last_stderr());
	for (int k = 0; k < self->n; k++) {
		const struct ionpu_test_card *c = &self->cards[k];

		snprintf(cmd, sizeof(cmd),
			 RUN " -d %s " GRAPH " -i /tmp/two.npy -o /tmp/card.npy --json -", c->pci);
		ASSERT_EQ(0, sh(AS_ROOT, cmd, self->out)) TH_LOG("%s", last_stderr());
		EXPECT_TRUE(json_check(self->out)) TH_LOG("not JSON: %s", self->out);
		EXPECT_NE(NULL, strstr(self->out, "\"target\": \"card\""));
		EXPECT_NE(NULL, strstr(self->out, "\"samples\": 2,"));
		EXPECT_TRUE(same_file("/tmp/host-two.npy", "/tmp/card.npy")) TH_LOG("%s", c->pci);
		/* stdin to stdout, stdout carrying the output alone. */
		snprintf(cmd, sizeof(cmd),
			 "cat /tmp/one.npy | " RUN " -d %s " GRAPH
			 " -i - --format npy -o - >/tmp/card-one.npy", c->name + strlen("ionpu"));
		ASSERT_EQ(0, sh(AS_ROOT, cmd, self->out)) TH_LOG("%s", last_stderr());
		EXPECT_TRUE(same_file("/tmp/host-one.npy", "/tmp/card-one.npy")) TH_LOG("%s", c->pci);
		snprintf(cmd, sizeof(cmd),
			 RUN " -d %s " GRAPH " -i /tmp/one.npy -o - --format csv >/tmp/card-one.csv",
			 c->node);
		ASSERT_EQ(0, sh(AS_ROOT, cmd, self->out)) TH_LOG("%s", last_stderr());
		EXPECT_TRUE(same_file("/tmp/host-one.csv", "/tmp/card-one.csv")) TH_LOG("%s", c->pci);
	}
}

/*
 * @cmd with its stderr on a terminal (a pseudo-terminal; devpts mounted if
 * the VM has none): what it wrote there into @out, its exit status or -1.
 */
static int on_terminal(const char *cmd, char *out)
{
	size_t len = 0;
	int master, status;
	ssize_t got;
	pid_t pid;

	if (access("/dev/pts/ptmx", F_OK)) {
		mkdir("/dev/pts", 0755);
		if (mount("devpts", "/dev/pts", "devpts", 0, "ptmxmode=0666"))
			return -1;
	}
	master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int slave = open(ptsname(master), O_RDWR | O_NOCTTY);

		if (slave < 0)
			_exit(126);
		dup2(slave, STDERR_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	/* The terminal's reads end with EIO once the child has closed it. */
	while (len < OUT_MAX - 1 && (got = read(master, out + len, OUT_MAX - 1 - len)) > 0)
		len += (size_t)got;
	out[len] = '\0';
	close(master);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* On a terminal, ionpu-run shows programming's and the batch's progress. */
TEST_F(tools, run_shows_progress_on_a_terminal)
{
	char cmd[512];

	if (access(GRAPH, R_OK))
		SKIP(return, GRAPH " is not staged");
	ASSERT_EQ(0, stage_inputs(self->out)) TH_LOG("%s", last_stderr());
	snprintf(cmd, sizeof(cmd), RUN " -d %s " GRAPH " -i /tmp/two.npy -o /tmp/card.npy",
		 self->cards[0].node);
	ASSERT_EQ(0, on_terminal(cmd, self->out)) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "] 100% ")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, " device writes")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "] 100% 2/2 samples")) TH_LOG("%s", self->out);
	EXPECT_TRUE(same_file("/tmp/host-two.npy", "/tmp/card.npy"));
	/* Off a terminal, no bar. */
	ASSERT_EQ(0, sh(AS_ROOT, cmd, self->out));
	EXPECT_EQ(NULL, strchr(last_stderr(), '\r')) TH_LOG("%s", last_stderr());
}

/* No such card, no access to the node, a bad file, a bad command line. */
TEST_F(tools, exit_status_no_card_no_permission_bad_input)
{
	char cmd[512];

	EXPECT_EQ(3, sh(AS_ROOT, SMI " -i 9", self->out));
	EXPECT_EQ(3, sh(AS_ROOT, SMI " cdi -i 9", self->out));
	EXPECT_EQ(3, sh(AS_ROOT, RUN " -d 9 " GRAPH " -i /tmp/x.npy -o /tmp/y.npy", self->out));
	EXPECT_EQ(3, sh(AS_ROOT, RUN " -d /dev/ionpu9 " GRAPH " -i /tmp/x.npy -o /tmp/y.npy",
			self->out));
	/* The nodes are root's, mode 0600: nobody lists, but cannot ask. */
	EXPECT_EQ(0, sh(AS_NOBODY, SMI " --json", self->out)) TH_LOG("%s", last_stderr());
	EXPECT_EQ(1, sh(AS_NOBODY, SMI " --json -q", self->out));
	EXPECT_TRUE(json_check(self->out));
	EXPECT_NE(NULL, strstr(self->out, "Permission denied")) TH_LOG("%s", self->out);
	EXPECT_EQ(3, sh(AS_NOBODY, SMI " calib --clear -i 0", self->out));
	snprintf(cmd, sizeof(cmd), RUN " -d 0 " GRAPH " -i %s/test-inputs.npy -o /tmp/y.npy",
		 DIGITS_DIR);
	EXPECT_EQ(3, sh(AS_NOBODY, cmd, self->out)) TH_LOG("%s", last_stderr());
	EXPECT_NE(NULL, strstr(last_stderr(), "no access to the card's node"));
	/* A file that is no .npy, one of no known format, flags that clash. */
	EXPECT_EQ(1, sh(AS_ROOT, "echo not numpy >/tmp/bad.npy && " RUN " -d 0 " GRAPH
			" -i /tmp/bad.npy -o /tmp/y.npy", self->out));
	EXPECT_NE(NULL, strstr(last_stderr(), "/tmp/bad.npy")) TH_LOG("%s", last_stderr());
	EXPECT_EQ(2, sh(AS_ROOT, RUN " -d 0 " GRAPH " -i /tmp/bad.txt -o /tmp/y.npy", self->out));
	EXPECT_EQ(2, sh(AS_ROOT, RUN " -d 0 --tiles 4 " GRAPH " -i /tmp/x.npy -o /tmp/y.npy",
			self->out));
	EXPECT_EQ(2, sh(AS_ROOT, SMI " --json --prometheus", self->out));
	EXPECT_EQ(2, sh(AS_ROOT, SMI " cdi -q", self->out));
	EXPECT_EQ(0, sh(AS_ROOT, SMI " --version", self->out));
	EXPECT_EQ(0, sh(AS_ROOT, RUN " --version", self->out));
}

/*
 * A user who may open the node but not watch the whole card (no
 * CAP_PERFMON) gets the card's identity, geometry and calibration, and its
 * activity as hidden: null in JSON, said so in text, left out of
 * Prometheus; the exit status is 0 all the same.
 */
TEST_F(tools, smi_hides_the_cards_activity_from_a_user_without_cap_perfmon)
{
	const char *node = self->cards[0].node;
	struct stat st;
	char cmd[256];

	ASSERT_EQ(0, stat(node, &st));
	ASSERT_EQ(0, chmod(node, 0666));
	snprintf(cmd, sizeof(cmd), SMI " --json -q -i %s", self->cards[0].pci);
	EXPECT_EQ(0, sh(AS_NOBODY, cmd, self->out)) TH_LOG("%s", last_stderr());
	EXPECT_TRUE(json_check(self->out)) TH_LOG("not JSON: %s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "\"activity\":null,"))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "\"api_version\":"));
	snprintf(cmd, sizeof(cmd), SMI " -q -i %s", self->cards[0].pci);
	EXPECT_EQ(0, sh(AS_NOBODY, cmd, self->out)) TH_LOG("%s", last_stderr());
	EXPECT_NE(NULL, strstr(self->out, "need CAP_PERFMON")) TH_LOG("%s", self->out);
	snprintf(cmd, sizeof(cmd), SMI " --prometheus -i %s", self->cards[0].pci);
	EXPECT_EQ(0, sh(AS_NOBODY, cmd, self->out)) TH_LOG("%s", last_stderr());
	EXPECT_NE(NULL, strstr(self->out, "ionpu_up{")) TH_LOG("%s", self->out);
	EXPECT_EQ(NULL, strstr(self->out, "ionpu_energy_joules_total{"));
	/* Root sees it. */
	snprintf(cmd, sizeof(cmd), SMI " --json -q -i %s", self->cards[0].pci);
	EXPECT_EQ(0, sh(AS_ROOT, cmd, self->out));
	EXPECT_NE(NULL, strstr(self->out, "\"activity\":{\"timesteps\":"))
		TH_LOG("%s", self->out);
	ASSERT_EQ(0, chmod(node, st.st_mode & 07777));
}

/* A card whose every tile is leased by another file: busy, exit 4. */
TEST_F(tools, run_on_a_card_with_no_free_tile_is_busy)
{
	const struct ionpu_test_card *c = &self->cards[self->n - 1];
	struct ionpu_lease lease = { .count = c->tiles };
	char cmd[512], want[128];
	int fd;

	if (access(GRAPH, R_OK))
		SKIP(return, GRAPH " is not staged");
	ASSERT_EQ(0, stage_inputs(self->out)) TH_LOG("%s", last_stderr());
	fd = open(c->node, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, IONPU_IOC_LEASE, &lease)) TH_LOG("lease: %s", strerror(errno));
	snprintf(cmd, sizeof(cmd), RUN " -d %s " GRAPH " -i /tmp/one.npy -o /tmp/y.npy", c->node);
	EXPECT_EQ(4, sh(AS_ROOT, cmd, self->out)) TH_LOG("%s", last_stderr());
	/* ionpu-smi -q names this process to root, and to nobody else. */
	snprintf(cmd, sizeof(cmd), SMI " -q --json -i %s", c->pci);
	ASSERT_EQ(0, sh(AS_ROOT, cmd, self->out)) TH_LOG("%s", last_stderr());
	EXPECT_TRUE(json_check(self->out));
	EXPECT_NE(NULL, strstr(self->out, "\"health\":{\"state\":\"ok\",")) TH_LOG("%s", self->out);
	/* A card that ran has a mean modeled power, a number. */
	EXPECT_NE(NULL, strstr(self->out, "\"power_w\":")) TH_LOG("%s", self->out);
	EXPECT_EQ(NULL, strstr(self->out, "\"power_w\":null")) TH_LOG("%s", self->out);
	snprintf(want, sizeof(want), "{\"tile\":%u,\"pid\":%d,\"command\":\"ionpu_tools_tes\"}",
		 c->tiles - 1, (int)getpid());
	EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("no %s in %s", want, self->out);
	EXPECT_EQ(1, sh(AS_NOBODY, cmd, self->out));
	snprintf(want, sizeof(want), "{\"tile\":%u,\"pid\":null,\"command\":null}",
		 c->tiles - 1);
	EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("no %s in %s", want, self->out);
	close(fd);
	/* The lease ends with its file: the card runs again. */
	EXPECT_EQ(0, sh(AS_ROOT, cmd, self->out)) TH_LOG("%s", last_stderr());
}

/*
 * A function reset asked for through sysfs: counted, its cause in sysfs's
 * last_reset and in ionpu-smi -q.
 */
TEST_F(tools, smi_says_why_the_card_was_last_reset)
{
	const struct ionpu_test_card *c = &self->cards[self->n - 1];
	long resets = ionpu_test_card_long(c, "resets");
	char path[128], cmd[256], want[160];

	ASSERT_LE(0, resets);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", c->pci);
	ASSERT_EQ(0, ionpu_test_write_file(path, "1"));
	EXPECT_EQ(resets + 1, ionpu_test_card_long(c, "resets"));
	snprintf(cmd, sizeof(cmd), SMI " -q --json -i %s", c->pci);
	ASSERT_EQ(0, sh(AS_ROOT, cmd, self->out)) TH_LOG("%s", last_stderr());
	snprintf(want, sizeof(want),
		 "\"health\":{\"state\":\"ok\",\"resets\":%ld,\"last_reset\":\"requested\",",
		 resets + 1);
	EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("no %s in %s", want, self->out);
}

/*
 * A card no driver serves: listed without a node, no spec, no run (exit 3),
 * and served again once bound.
 */
TEST_F(tools, card_without_driver)
{
	const struct ionpu_test_card *c = &self->cards[self->n - 1];
	char cmd[512], want[128];

	ASSERT_EQ(0, ionpu_test_write_file(DRIVER_DIR "/unbind", c->pci));
	snprintf(cmd, sizeof(cmd), SMI " --json -i %s", c->pci);
	EXPECT_EQ(0, sh(AS_ROOT, cmd, self->out)) TH_LOG("%s", last_stderr());
	EXPECT_TRUE(json_check(self->out));
	snprintf(want, sizeof(want), "\"pci_address\":\"%s\",\"driver_bound\":false", c->pci);
	EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("%s", self->out);
	snprintf(cmd, sizeof(cmd), SMI " cdi -i %s", c->pci);
	EXPECT_EQ(3, sh(AS_ROOT, cmd, self->out));
	EXPECT_STREQ("", self->out);
	snprintf(cmd, sizeof(cmd), RUN " -d %s " GRAPH " -i /tmp/one.npy -o /tmp/y.npy", c->pci);
	EXPECT_EQ(3, sh(AS_ROOT, cmd, self->out)) TH_LOG("%s", last_stderr());

	ASSERT_EQ(0, ionpu_test_write_file(DRIVER_DIR "/bind", c->pci));
	ASSERT_TRUE(ionpu_test_wait_path(c->node, true, 2000));
	snprintf(cmd, sizeof(cmd), SMI " cdi -i %s", c->pci);
	EXPECT_EQ(0, sh(AS_ROOT, cmd, self->out)) TH_LOG("%s", last_stderr());
}

/* Each of @keys is a figure of ionpu-bench's JSON @out, its median above zero. */
static void figures_above_zero(struct __test_metadata *_metadata, const char *out,
			       const char *const *keys, size_t n)
{
	char want[96];
	const char *p;

	for (size_t i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "\"%s\":{\"median\":", keys[i]);
		p = strstr(out, want);
		ASSERT_NE(NULL, p) TH_LOG("no %s in %s", keys[i], out);
		EXPECT_GT(strtod(p + strlen(want), NULL), 0) TH_LOG("%s", keys[i]);
	}
}

/*
 * ionpu-bench measures every figure docs/bench.md lists for one card, each
 * above zero, as well-formed JSON; a bad command line is a usage error.
 */
TEST_F(tools, bench_json_has_every_figure)
{
	static const char *const keys[] = {
		"ioctl_batch1_jobs_per_s", "uring64_batch1_jobs_per_s", "uring64_vs_ioctl_batch1",
		"batch4096_cpu_us_per_job", "batch4096_card_us_per_job",
		"batch4096_user_us_per_job", "batch4096_sys_us_per_job",
		"driver_overhead_batch4096", "batch4096_events_per_s", "programming_cells_per_s",
		"programming_cpu_ms", "programming_card_ms", "programming_overhead",
		"programming_user_ms", "programming_sys_ms",
		"ioctl_batch64_events_per_s", "uring64_batch64_events_per_s",
		"uring64_batch4096_events_per_s",
		"inference_single_images_per_s", "inference_batch_images_per_s",
		"batch_vs_single_inference", "inference_latency_p50_ms",
		"inference_latency_p99_ms",
		"stream_ioctl_batch1_events_per_s", "stream_ioctl_batch64_events_per_s",
		"stream_ioctl_batch4096_events_per_s", "stream_write_batch1_events_per_s",
		"stream_write_batch64_events_per_s", "stream_write_batch4096_events_per_s",
		"stream_uring_batch1_events_per_s", "stream_uring_batch64_events_per_s",
		"stream_uring_batch4096_events_per_s", "stream_ioctl_batch1_syscalls_per_event",
		"stream_ioctl_batch64_syscalls_per_event",
		"stream_ioctl_batch4096_syscalls_per_event",
		"stream_write_batch1_syscalls_per_event",
		"stream_write_batch64_syscalls_per_event",
		"stream_write_batch4096_syscalls_per_event",
		"stream_uring_batch1_syscalls_per_event",
		"stream_uring_batch64_syscalls_per_event",
		"stream_uring_batch4096_syscalls_per_event",
		"programming_pinned_bytes_per_request",
	};
	char cmd[512];

	if (access(BENCH, X_OK))
		SKIP(return, "ionpu-bench is not in /usr/bin");
	snprintf(cmd, sizeof(cmd),
		 BENCH " -d %s --json --runs 1 --seconds 0.2 --graph " GRAPH
		       " --inputs " DIGITS_DIR "/test-inputs.npy",
		 self->cards[0].pci);
	ASSERT_EQ(0, sh(AS_ROOT, cmd, self->out)) TH_LOG("%s", last_stderr());
	ASSERT_TRUE(json_check(self->out)) TH_LOG("not JSON: %s", self->out);
	figures_above_zero(_metadata, self->out, keys, sizeof(keys) / sizeof(keys[0]));
	/* Jobs are copied in and out: none in flight pins a page. */
	EXPECT_NE(NULL, strstr(self->out, "\"uring64_batch4096_locked_peak_bytes\":{\"median\":0,"))
		TH_LOG("%s", self->out);
	EXPECT_EQ(2, sh(AS_ROOT, BENCH " --runs 0", self->out));
	EXPECT_EQ(2, sh(AS_ROOT, BENCH " --graph " GRAPH, self->out));
}

/*
 * A network split over the VM's two cards: the steps per second on one
 * and two cards, and the output equal to the host reference's in every run.
 */
TEST_F(tools, bench_multi_json)
{
	static const char *const keys[] = {
		"multicard_steps_per_s_1_cards",
		"multicard_steps_per_s_2_cards",
		"multicard_matches_host",
		"multicard_output_spikes_per_step",
	};
	char cmd[512];

	if (access(BENCH, X_OK))
		SKIP(return, "ionpu-bench is not in /usr/bin");
	if (self->n < 2)
		SKIP(return, "one card: a split needs two");
	snprintf(cmd, sizeof(cmd), BENCH " --json --runs 1 --seconds 0.2 --multi %s,%s",
		 self->cards[0].pci, self->cards[1].pci);
	ASSERT_EQ(0, sh(AS_ROOT, cmd, self->out)) TH_LOG("%s", last_stderr());
	ASSERT_TRUE(json_check(self->out)) TH_LOG("not JSON: %s", self->out);
	figures_above_zero(_metadata, self->out, keys, sizeof(keys) / sizeof(keys[0]));
	/* Four cards asked for, two given: no figure for four. */
	EXPECT_EQ(NULL, strstr(self->out, "multicard_steps_per_s_4_cards"));
	snprintf(cmd, sizeof(cmd), BENCH " --multi %s", self->cards[0].pci);
	EXPECT_NE(0, sh(AS_ROOT, cmd, self->out));
	EXPECT_NE(NULL, strstr(last_stderr(), "fewer than two cards")) TH_LOG("%s", last_stderr());
}

TEST_HARNESS_MAIN
