// SPDX-License-Identifier: GPL-2.0-only
/*
 * The card's learning commands (docs/hardware.md revision 1.4): LEARN
 * turns a tile's engine on with a rule and off, TEACH pulses the cells the
 * rule names and returns how many, READ_COUNTERS counts those pulses and
 * their energy (and still serves a rev 1.3 driver's shorter buffer), the
 * learned cells are saved in the non-volatile store, a reset turns learning
 * off, malformed commands change nothing, and a card made without learning
 * (learning=off) is a rev 1.3 card.
 */
/* mkdtemp() */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_host.h"

#define BAD_INLINE	0xffffffffu
/* One learning pulse, docs/physics.md. */
#define PULSE_FJ	7500u
/* The spiker neuron (fake_host.h) and the neuron the tests teach. */
#define SPIKER		9
#define TEACHER		3

static int setup(void **state)
{
	struct fake_host *h = host_new(2, false);

	host_queues(h, 16, 16, 64);
	make_spiker(h, SPIKER, false);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	host_free(*state);
	return 0;
}

/* Full pulses on any input; the teacher learns until it fires once. */
static struct ionpu_hw_learn full_rule(void)
{
	return (struct ionpu_hw_learn){
		.flags = ionpu_cpu_to_le32(IONPU_LEARN_FLAG_ENABLE),
		.amp_pot = ionpu_f32_to_le32(1.0f),
		.amp_dep = ionpu_f32_to_le32(1.0f),
		.pre_ref = ionpu_f32_to_le32(1.0f),
		.post_target = ionpu_cpu_to_le32(1),
		.max_pulses = ionpu_cpu_to_le32(1000),
	};
}

static struct cqe learn(struct fake_host *h, unsigned int tile,
			const struct ionpu_hw_learn *rule)
{
	*HOST_AT(h, IN_OFF, struct ionpu_hw_learn) = *rule;
	return run_cmd(h, &(struct sqe){
		.op = IONPU_OP_LEARN, .cid = 20, .tile = (uint16_t)tile,
		.in_addr = BUS(IN_OFF), .in_len = sizeof(*rule) });
}

static struct cqe learn_on(struct fake_host *h, unsigned int tile)
{
	const struct ionpu_hw_learn rule = full_rule();

	return learn(h, tile, &rule);
}

static struct cqe teach(struct fake_host *h, unsigned int tile,
			uint32_t neuron)
{
	return run_cmd(h, &(struct sqe){
		.op = IONPU_OP_TEACH, .cid = 21, .tile = (uint16_t)tile,
		.p = { neuron } });
}

static void read_cell(struct fake_host *h, unsigned int row, unsigned int col,
		      float *gp, float *gm)
{
	const struct ionpu_hw_cell_read *c =
		HOST_AT(h, OUT_OFF, const struct ionpu_hw_cell_read);
	struct cqe r = run_cmd(h, &(struct sqe){
		.op = IONPU_OP_READ_CELLS, .cid = 22, .out_addr = BUS(OUT_OFF),
		.out_len = sizeof(*c), .p = { row, 1, col, 1 } });

	assert_int_equal(r.code, IONPU_SC_SUCCESS);
	*gp = ionpu_le32_to_f32(c->g_plus);
	*gm = ionpu_le32_to_f32(c->g_minus);
}

static void run_steps(struct fake_host *h, uint32_t steps)
{
	struct cqe c = run_cmd(h, &(struct sqe){
		.op = IONPU_OP_RUN, .cid = 23, .p = { steps } });

	assert_int_equal(c.code, IONPU_SC_SUCCESS);
	assert_int_equal(c.result, steps);
}

static struct ionpu_hw_counters counters(struct fake_host *h, uint32_t len)
{
	struct ionpu_hw_counters *k = HOST_AT(h, OUT_OFF,
					      struct ionpu_hw_counters);
	struct cqe c;

	memset(k, 0, sizeof(*k));
	c = run_cmd(h, &(struct sqe){
		.op = IONPU_OP_READ_COUNTERS, .cid = 24,
		.out_addr = BUS(OUT_OFF), .out_len = len });
	assert_int_equal(c.code, IONPU_SC_SUCCESS);
	assert_int_equal(c.result, sizeof(*k));
	return *k;
}

/*
 * The spiker fires on its row's input: teaching another neuron raises the
 * teacher's G+ on that row and the spiker's G-, two pulses.
 */
static void test_learn_teach(void **state)
{
	struct fake_host *h = *state;
	struct ionpu_hw_counters k;
	float gp, gm;
	struct cqe c;

	assert_int_equal(rd(h, IONPU_REG_CAPS) & IONPU_CAP_LEARN,
			 IONPU_CAP_LEARN);
	assert_int_equal(rd(h, IONPU_REG_VERSION), IONPU_HW_VERSION);
	c = learn_on(h, 0);
	assert_int_equal(c.code, IONPU_SC_SUCCESS);
	input_spike(h, SPIKER, 0);
	run_steps(h, 2);
	c = teach(h, 0, TEACHER);
	assert_int_equal(c.code, IONPU_SC_SUCCESS);
	assert_int_equal(c.result, 2);

	read_cell(h, SPIKER, TEACHER, &gp, &gm);
	assert_true(gp > IONPU_FAB_G_MIN);
	assert_true(gm == IONPU_FAB_G_MIN);
	read_cell(h, SPIKER, SPIKER, &gp, &gm);
	assert_true(gm > IONPU_FAB_G_MIN);
	/* Rows without input are untouched. */
	read_cell(h, SPIKER + 1, TEACHER, &gp, &gm);
	assert_true(gp == IONPU_FAB_G_MIN);

	k = counters(h, sizeof(k));
	assert_int_equal(ionpu_le64_to_cpu(k.learn_pulses), 2);
	assert_int_equal(ionpu_le64_to_cpu(k.learn_energy_fj), 2 * PULSE_FJ);
	assert_true(ionpu_le64_to_cpu(k.energy_fj) >= 2 * PULSE_FJ);

	/* The traces were cleared: nothing to teach until the next run. */
	c = teach(h, 0, TEACHER);
	assert_int_equal(c.code, IONPU_SC_SUCCESS);
	assert_int_equal(c.result, 0);

	/* Off: teaching is refused, learning can be turned off twice. */
	assert_int_equal(learn(h, 0, &(struct ionpu_hw_learn){ 0 }).code,
			 IONPU_SC_SUCCESS);
	assert_int_equal(learn(h, 0, &(struct ionpu_hw_learn){ 0 }).code,
			 IONPU_SC_SUCCESS);
	c = teach(h, 0, TEACHER);
	assert_int_equal(c.code, IONPU_SC_INVALID_FIELD);
	assert_int_equal(c.result, BAD_INLINE);
}

/* A rev 1.3 driver reads 64 bytes of counters and gets just those. */
static void test_counters_v1(void **state)
{
	struct fake_host *h = *state;
	const uint8_t *o = HOST_AT(h, OUT_OFF, const uint8_t);
	struct ionpu_hw_counters k;

	assert_int_equal(learn_on(h, 0).code, IONPU_SC_SUCCESS);
	input_spike(h, SPIKER, 0);
	run_steps(h, 1);
	assert_int_equal(teach(h, 0, TEACHER).result, 2);
	memset(HOST_AT(h, OUT_OFF, uint8_t), 0xee, sizeof(k));
	assert_int_equal(run_cmd(h, &(struct sqe){
		.op = IONPU_OP_READ_COUNTERS, .cid = 25,
		.out_addr = BUS(OUT_OFF),
		.out_len = IONPU_HW_COUNTERS_V1_SIZE }).code, IONPU_SC_SUCCESS);
	assert_int_equal(o[IONPU_HW_COUNTERS_V1_SIZE], 0xee);
	assert_int_equal(ionpu_get_le64(o + offsetof(struct ionpu_hw_counters,
						     timesteps)), 1);
	k = counters(h, sizeof(k));
	assert_int_equal(ionpu_le64_to_cpu(k.learn_pulses), 2);
}

/* Malformed LEARN and TEACH commands are refused and change nothing. */
static void test_refused(void **state)
{
	struct fake_host *h = *state;
	struct ionpu_hw_learn bad;
	struct cqe c;

	/* A payload of the wrong size. */
	*HOST_AT(h, IN_OFF, struct ionpu_hw_learn) = full_rule();
	c = run_cmd(h, &(struct sqe){
		.op = IONPU_OP_LEARN, .cid = 30, .in_addr = BUS(IN_OFF),
		.in_len = sizeof(bad) - 4 });
	assert_int_equal(c.code, IONPU_SC_INVALID_LENGTH);
	c = run_cmd(h, &(struct sqe){
		.op = IONPU_OP_LEARN, .cid = 31, .in_addr = BUS(IN_OFF),
		.in_len = 2 * sizeof(bad) });
	assert_int_equal(c.code, IONPU_SC_INVALID_LENGTH);
	/* A parameter LEARN does not read. */
	c = run_cmd(h, &(struct sqe){
		.op = IONPU_OP_LEARN, .cid = 32, .in_addr = BUS(IN_OFF),
		.in_len = sizeof(bad), .p = { 0, 1 } });
	assert_int_equal(c.code, IONPU_SC_INVALID_FIELD);
	/* A tile the card lacks. */
	assert_int_equal(learn_on(h, 2).code, IONPU_SC_INVALID_TILE);
	assert_int_equal(teach(h, 2, 0).code, IONPU_SC_INVALID_TILE);

	bad = full_rule();
	bad.flags = ionpu_cpu_to_le32(0x2 | IONPU_LEARN_FLAG_ENABLE);
	assert_int_equal(learn(h, 0, &bad).code, IONPU_SC_INVALID_FIELD);
	bad = full_rule();
	bad.rsvd[1] = ionpu_cpu_to_le32(1);
	assert_int_equal(learn(h, 0, &bad).code, IONPU_SC_INVALID_FIELD);
	bad = full_rule();
	bad.amp_pot = ionpu_f32_to_le32(NAN);
	assert_int_equal(learn(h, 0, &bad).code, IONPU_SC_INVALID_FIELD);
	bad = full_rule();
	bad.amp_dep = ionpu_f32_to_le32(-0.5f);
	assert_int_equal(learn(h, 0, &bad).code, IONPU_SC_INVALID_FIELD);
	bad = full_rule();
	bad.pre_ref = ionpu_f32_to_le32(0.0f);
	assert_int_equal(learn(h, 0, &bad).code, IONPU_SC_INVALID_FIELD);
	bad = full_rule();
	bad.max_pulses = 0;
	assert_int_equal(learn(h, 0, &bad).code, IONPU_SC_INVALID_FIELD);
	/* Off with a rule's field set is a mistake, not "off". */
	bad = (struct ionpu_hw_learn){ .max_pulses = ionpu_cpu_to_le32(5) };
	assert_int_equal(learn(h, 0, &bad).code, IONPU_SC_INVALID_FIELD);
	/* None of those turned learning on. */
	assert_int_equal(teach(h, 0, 0).code, IONPU_SC_INVALID_FIELD);

	assert_int_equal(learn_on(h, 0).code, IONPU_SC_SUCCESS);
	c = teach(h, 0, IONPU_TILE_NEURONS);
	assert_int_equal(c.code, IONPU_SC_INVALID_FIELD);
	assert_int_equal(c.result, BAD_INLINE);
	c = run_cmd(h, &(struct sqe){
		.op = IONPU_OP_TEACH, .cid = 33, .p = { 0, 7 } });
	assert_int_equal(c.code, IONPU_SC_INVALID_FIELD);
	/* Learning is per tile. */
	assert_int_equal(teach(h, 1, 0).code, IONPU_SC_INVALID_FIELD);
	assert_int_equal(teach(h, 0, 0).code, IONPU_SC_SUCCESS);
}

/* A reset turns learning off; what was learned stays (non-volatile). */
static void test_reset(void **state)
{
	struct fake_host *h = *state;
	float gp, gm;

	assert_int_equal(learn_on(h, 0).code, IONPU_SC_SUCCESS);
	input_spike(h, SPIKER, 0);
	run_steps(h, 1);
	assert_int_equal(teach(h, 0, TEACHER).result, 2);
	wr(h, IONPU_REG_CONTROL, IONPU_CONTROL_RESET);
	host_queues(h, 16, 16, 64);
	assert_int_equal(teach(h, 0, TEACHER).code, IONPU_SC_INVALID_FIELD);
	read_cell(h, SPIKER, TEACHER, &gp, &gm);
	assert_true(gp > IONPU_FAB_G_MIN);
}

/* TEACH saves the store: a new card on the same file has the weights. */
static void test_nvstore(void **state)
{
	char dir[] = "/tmp/ionpu-learn-XXXXXX";
	char path[64];
	const struct ionpu_config cfg = { .tiles = 1, .seed = 3,
					  .nvstore = path };
	struct fake_host *h;
	float gp, gm, learned;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/card.nv", dir);
	h = host_new_cfg(&cfg);
	host_queues(h, 16, 16, 64);
	make_spiker(h, SPIKER, false);
	assert_int_equal(learn_on(h, 0).code, IONPU_SC_SUCCESS);
	input_spike(h, SPIKER, 0);
	run_steps(h, 1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(teach(h, 0, TEACHER).code, IONPU_SC_SUCCESS);
	assert_int_equal(access(path, F_OK), 0);
	read_cell(h, SPIKER, TEACHER, &learned, &gm);
	host_free(h);

	h = host_new_cfg(&cfg);
	host_queues(h, 16, 16, 64);
	read_cell(h, SPIKER, TEACHER, &gp, &gm);
	assert_true(gp == learned);
	assert_true(gp > IONPU_FAB_G_MIN);
	host_free(h);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* learning=off: a card as rev 1.3 was, which a host must tell apart. */
static void test_without_learning(void **state)
{
	const struct ionpu_config cfg = { .tiles = 1, .without_learning = true };
	struct fake_host *h = host_new_cfg(&cfg);
	const struct ionpu_hw_identify *id =
		HOST_AT(h, OUT_OFF, const struct ionpu_hw_identify);
	const uint8_t *o = HOST_AT(h, OUT_OFF, const uint8_t);
	struct cqe c;

	(void)state;
	host_queues(h, 16, 16, 64);
	assert_int_equal(rd(h, IONPU_REG_VERSION), IONPU_HW_VERSION_1_3);
	assert_int_equal(rd(h, IONPU_REG_CAPS) &
				 (IONPU_CAP_LEARN | IONPU_CAP_TILE_COUNTERS),
			 0);
	assert_int_equal(run_cmd(h, &(struct sqe){
		.op = IONPU_OP_IDENTIFY, .cid = 40, .out_addr = BUS(OUT_OFF),
		.out_len = sizeof(*id) }).code, IONPU_SC_SUCCESS);
	assert_int_equal(ionpu_le32_to_cpu(id->version), IONPU_HW_VERSION_1_3);
	assert_int_equal(ionpu_le32_to_cpu(id->caps), rd(h, IONPU_REG_CAPS));

	c = learn_on(h, 0);
	assert_int_equal(c.code, IONPU_SC_INVALID_OPCODE);
	assert_int_equal(teach(h, 0, 0).code, IONPU_SC_INVALID_OPCODE);

	memset(HOST_AT(h, OUT_OFF, uint8_t), 0xee,
	       sizeof(struct ionpu_hw_counters));
	c = run_cmd(h, &(struct sqe){
		.op = IONPU_OP_READ_COUNTERS, .cid = 41,
		.out_addr = BUS(OUT_OFF),
		.out_len = sizeof(struct ionpu_hw_counters) });
	assert_int_equal(c.code, IONPU_SC_SUCCESS);
	assert_int_equal(c.result, IONPU_HW_COUNTERS_V1_SIZE);
	assert_int_equal(o[IONPU_HW_COUNTERS_V1_SIZE], 0xee);
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_learn_teach, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_counters_v1, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test(test_nvstore),
		cmocka_unit_test(test_without_learning),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
