// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ionpu_cards.h"

#define CLASS_DIR "/sys/class/ionpu"

int ionpu_test_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

long ionpu_test_card_long(const struct ionpu_test_card *card, const char *attr)
{
	char path[PATH_MAX], buf[64];

	snprintf(path, sizeof(path), CLASS_DIR "/%s/%s", card->name, attr);
	if (ionpu_test_read_file(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

int ionpu_test_write_file(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

#define IONPU_TEST_PARAMS "/sys/module/ionpu/parameters/"

int ionpu_test_param_set(const char *name, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), IONPU_TEST_PARAMS "%s", name);
	return ionpu_test_write_file(path, val);
}

/* The current value of module parameter @name of ionpu into @buf. */
static int ionpu_test_param_get(const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), IONPU_TEST_PARAMS "%s", name);
	return ionpu_test_read_file(path, buf, len);
}

int ionpu_test_hang_params_set(struct ionpu_test_hang_params *saved,
			       const char *timeout_ms, const char *watchdog_ms)
{
	int ret;

	ret = ionpu_test_param_get("cmd_timeout_ms", saved->cmd_timeout_ms,
				   sizeof(saved->cmd_timeout_ms));
	if (!ret)
		ret = ionpu_test_param_get("watchdog_ms", saved->watchdog_ms,
					   sizeof(saved->watchdog_ms));
	if (!ret)
		ret = ionpu_test_param_get("max_hang_resets",
					   saved->max_hang_resets,
					   sizeof(saved->max_hang_resets));
	if (ret)
		return ret;
	ret = ionpu_test_param_set("cmd_timeout_ms", timeout_ms);
	if (!ret)
		ret = ionpu_test_param_set("watchdog_ms", watchdog_ms);
	if (!ret)
		ret = ionpu_test_param_set("max_hang_resets", "0");
	if (ret)
		ionpu_test_hang_params_restore(saved);
	return ret;
}

void ionpu_test_hang_params_restore(const struct ionpu_test_hang_params *saved)
{
	ionpu_test_param_set("cmd_timeout_ms", saved->cmd_timeout_ms);
	ionpu_test_param_set("watchdog_ms", saved->watchdog_ms);
	ionpu_test_param_set("max_hang_resets", saved->max_hang_resets);
}

int ionpu_test_inject(const struct ionpu_test_card *card, unsigned int fault)
{
	char path[PATH_MAX], val[16];

	snprintf(path, sizeof(path), IONPU_TEST_DEBUGFS "/%s/fault", card->name);
	snprintf(val, sizeof(val), "%u", fault);
	return ionpu_test_write_file(path, val);
}

long ionpu_test_debugfs_long(const struct ionpu_test_card *card,
			     const char *file, const char *name)
{
	char path[PATH_MAX], buf[1024], *at;
	size_t len = strlen(name);

	snprintf(path, sizeof(path), IONPU_TEST_DEBUGFS "/%s/%s", card->name, file);
	if (ionpu_test_read_file(path, buf, sizeof(buf)))
		return -1;
	for (at = strstr(buf, name); at; at = strstr(at + 1, name))
		if ((at == buf || at[-1] == '\n') && at[len] == ':')
			return strtol(at + len + 1, NULL, 10);
	return -1;
}

int ionpu_test_open_fault_card(struct ionpu_test_card *card)
{
	struct ionpu_test_card cards[IONPU_TEST_MAX_CARDS];
	char path[PATH_MAX];
	int n = ionpu_test_cards(cards, IONPU_TEST_MAX_CARDS);

	for (int c = 0; c < n; c++) {
		snprintf(path, sizeof(path), IONPU_TEST_DEBUGFS "/%s/fault",
			 cards[c].name);
		if (!access(path, W_OK)) {
			int fd = open(cards[c].node, O_RDWR | O_CLOEXEC);

			*card = cards[c];
			return fd < 0 ? -errno : fd;
		}
	}
	return -ENODEV;
}

bool ionpu_test_wait_path(const char *path, bool present, int timeout_ms)
{
	const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };

	for (;;) {
		if ((access(path, F_OK) == 0) == present)
			return true;
		if (timeout_ms <= 0)
			return false;
		nanosleep(&tick, NULL);
		timeout_ms -= 10;
	}
}

short ionpu_test_poll(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLPRI };

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static int read_card(const char *name, struct ionpu_test_card *c)
{
	char path[PATH_MAX], buf[64], link[PATH_MAX];
	ssize_t n;
	int ret;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->node, sizeof(c->node), "/dev/%s", name);

	snprintf(path, sizeof(path), CLASS_DIR "/%s/device", name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	snprintf(c->pci, sizeof(c->pci), "%s", basename(link));

	snprintf(path, sizeof(path), CLASS_DIR "/%s/serial", name);
	ret = ionpu_test_read_file(path, c->serial, sizeof(c->serial));
	if (ret)
		return ret;
	snprintf(path, sizeof(path), CLASS_DIR "/%s/tiles", name);
	ret = ionpu_test_read_file(path, buf, sizeof(buf));
	if (ret)
		return ret;
	c->tiles = strtoul(buf, NULL, 10);
	snprintf(path, sizeof(path), CLASS_DIR "/%s/seed", name);
	ret = ionpu_test_read_file(path, buf, sizeof(buf));
	if (ret)
		return ret;
	c->seed = strtoull(buf, NULL, 10);
	return 0;
}

static int cmp_card(const void *a, const void *b)
{
	const struct ionpu_test_card *x = a, *y = b;
	size_t lx = strlen(x->name), ly = strlen(y->name);

	/* ionpu2 before ionpu10 */
	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x->name, y->name);
}

int ionpu_test_cards(struct ionpu_test_card *cards, int max)
{
	struct dirent *de;
	int n = 0, ret = 0;
	DIR *d;

	d = opendir(CLASS_DIR);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "ionpu", 5))
			continue;
		if (n == max) {
			ret = -E2BIG;
			break;
		}
		ret = read_card(de->d_name, &cards[n]);
		if (ret)
			break;
		n++;
	}
	closedir(d);
	if (ret)
		return ret;
	qsort(cards, n, sizeof(*cards), cmp_card);
	return n;
}

int ionpu_test_expected(struct ionpu_test_expect *exp, int max)
{
	const char *env = getenv("IONPU_CARDS");
	char *copy, *tok, *save = NULL;
	int n = 0, ret = 0;

	if (!env)
		return -ENOENT;
	copy = strdup(env);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int used = 0;

		if (n == max) {
			ret = -E2BIG;
			break;
		}
		if (sscanf(tok, "%16[^:]:%u:%llu%n", exp[n].serial,
			   &exp[n].tiles, &exp[n].seed, &used) != 3 ||
		    tok[used] != '\0') {
			ret = -EINVAL;
			break;
		}
		n++;
	}
	free(copy);
	return ret ? ret : n;
}

static int open_card(struct ionpu_test_card *card, bool last)
{
	struct ionpu_test_card cards[IONPU_TEST_MAX_CARDS];
	int n = ionpu_test_cards(cards, IONPU_TEST_MAX_CARDS);
	int fd;

	if (n < 0)
		return n;
	if (n == 0)
		return -ENODEV;
	*card = cards[last ? n - 1 : 0];
	fd = open(card->node, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int ionpu_test_open_first(struct ionpu_test_card *card)
{
	return open_card(card, false);
}

int ionpu_test_open_last(struct ionpu_test_card *card)
{
	return open_card(card, true);
}

bool ionpu_test_child_ended(pid_t pid, int *status, int seconds)
{
	const struct timespec tick = { .tv_nsec = 100 * 1000 * 1000 };
	char path[64], stack[2048];

	for (int i = 0; i < seconds * 10; i++) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		nanosleep(&tick, NULL);
	}
	snprintf(path, sizeof(path), "/proc/%d/stack", (int)pid);
	/* stderr: unbuffered, as the test process ends with _exit(). */
	if (!ionpu_test_read_file(path, stack, sizeof(stack)))
		fprintf(stderr, "# process %d is stuck in:\n%s\n", (int)pid, stack);
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return false;
}
