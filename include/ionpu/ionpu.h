/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libionpu: user-space access to IONPU-1 neuromorphic accelerator cards.
 *
 * Conventions every function follows:
 *
 * - Functions that can fail return 0 or a negative errno value and never
 *   touch errno on purpose.  On failure they also leave a message for the
 *   calling thread, read with ionpu_last_error().
 * - Output pointers are written only on success.
 * - The library keeps no state between calls other than that per-thread
 *   message, so separate threads may use separate handles freely.  One
 *   &struct ionpu_dev may be shared between threads for ionpu_info().
 * - The structs below belong to the library, not to the kernel: the library
 *   translates from <linux/ionpu.h>, so the kernel interface can grow without
 *   breaking programs linked against this one.  A struct whose layout has to
 *   change comes with new symbol versions of the functions that use it.
 */
#ifndef IONPU_IONPU_H
#define IONPU_IONPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility; this marks its interface. */
#define IONPU_API __attribute__((visibility("default")))

#define IONPU_LIB_VERSION_MAJOR	0
#define IONPU_LIB_VERSION_MINOR	5
#define IONPU_LIB_VERSION_PATCH	0

/* Longest serial number a card reports, without the terminating NUL. */
#define IONPU_SERIAL_MAX	16
/* Room for a PCI address such as "0000:00:03.0", with the NUL. */
#define IONPU_PCI_ADDR_SIZE	32
/* Room for a device node path such as "/dev/ionpu0", with the NUL. */
#define IONPU_NODE_SIZE		64
/* Most tiles an IONPU-1 card has: the bound on struct ionpu_card_desc.tiles. */
#define IONPU_CARD_MAX_TILES	64
/*
 * Largest magnitude of an input raster's value, 2^24: the card adds the
 * values that reach a crossbar row in one step in 32-bit float, where beyond
 * 2^24 a spike (1) on the same row would be lost.
 */
#define IONPU_INPUT_MAX		16777216.0f
/* Room for a kernel driver name, with the NUL. */
#define IONPU_DRIVER_SIZE	64

/* Bits of &struct ionpu_dev_info.caps. */
#define IONPU_DEV_CAP_FLR	(1u << 0)	/* function level reset */
#define IONPU_DEV_CAP_TEST_IRQ	(1u << 1)	/* interrupts can be tested */
#define IONPU_DEV_CAP_QUEUES	(1u << 2)	/* runs networks: command queues */
#define IONPU_DEV_CAP_READOUT	(1u << 3)	/* crossbar readout window */
#define IONPU_DEV_CAP_NVSTORE	(1u << 4)	/* state survives power-off */
#define IONPU_DEV_CAP_FAULTS	(1u << 5)	/* fault injection (emulated cards) */
#define IONPU_DEV_CAP_TILE_RESET	(1u << 6)	/* clears chosen tiles only (rev 1.2) */
#define IONPU_DEV_CAP_SGL	(1u << 7)	/* payloads from pinned pages (rev 1.3) */

/**
 * struct ionpu_card - one card as the system sees it: the PCI bus and sysfs
 * @index: N of the card's node /dev/ionpu<N>, or -1 when the ionpu driver
 *         does not serve the card.
 * @pci_address: PCI address, "domain:bus:slot.function".
 * @node: "/dev/ionpu<N>", or "" when the ionpu driver does not serve the card.
 * @driver_bound: the ionpu driver serves the card; the fields below are
 *                known only then (else they are zero or empty).
 * @driver: name of the kernel driver bound to the PCI function, "" if none.
 *          It can be another driver than "ionpu", e.g. "vfio-pci".
 * @serial: serial number, NUL terminated.
 * @tiles: number of crossbar tiles.
 * @hw_version_major: card version, major part.
 * @hw_version_minor: card version, minor part.
 * @seed: the seed the card draws its device variation from.
 */
struct ionpu_card {
	int index;
	char pci_address[IONPU_PCI_ADDR_SIZE];
	char node[IONPU_NODE_SIZE];
	bool driver_bound;
	char driver[IONPU_DRIVER_SIZE];
	char serial[IONPU_SERIAL_MAX + 1];
	uint32_t tiles;
	uint16_t hw_version_major;
	uint16_t hw_version_minor;
	uint64_t seed;
};

/**
 * struct ionpu_dev_info - identity and geometry of an open card
 * @api_version: version of the kernel interface the driver speaks.
 * @hw_version_major: card version, major part.
 * @hw_version_minor: card version, minor part.
 * @caps: %IONPU_DEV_CAP_* bits the card has.
 * @tiles: number of crossbar tiles.
 * @tile_rows: crossbar rows (synaptic inputs) per tile.
 * @tile_neurons: neurons (crossbar columns) per tile.
 * @seed: the seed the card draws its device variation from.
 * @serial: serial number, NUL terminated.
 */
struct ionpu_dev_info {
	uint32_t api_version;
	uint16_t hw_version_major;
	uint16_t hw_version_minor;
	uint32_t caps;
	uint32_t tiles;
	uint32_t tile_rows;
	uint32_t tile_neurons;
	uint64_t seed;
	char serial[IONPU_SERIAL_MAX + 1];
};

/* An open card; only the library sees inside. */
struct ionpu_dev;

/**
 * ionpu_version() - version of the library that is running
 *
 * Return: "MAJOR.MINOR.PATCH", a static string.  Compare with the
 * %IONPU_LIB_VERSION_* macros to tell the headers' version from the
 * library's.
 */
IONPU_API const char *ionpu_version(void);

/**
 * ionpu_last_error() - why the calling thread's last failed call failed
 *
 * Return: a message naming what failed and why, e.g.
 * "/dev/ionpu3: No such file or directory".  It is meaningful right after a
 * call returned a negative errno; successful calls do not clear it.  The
 * string belongs to the thread and is overwritten by its next failure.
 */
IONPU_API const char *ionpu_last_error(void);

/**
 * ionpu_list() - find every IONPU card in the system
 * @sysfs_root: where sysfs is mounted; NULL means "/sys".
 * @cards: out: array of *@count cards ordered by PCI address, or NULL when
 *         there are none; free it with ionpu_list_free().
 * @count: out: number of cards.
 *
 * Finds cards by their PCI vendor and device ID on the PCI bus, with
 * libpci's sysfs method on @sysfs_root/bus/pci, driver or not; reads the
 * identity of those the ionpu driver serves from their sysfs attributes.
 * No card at all, or no ionpu driver loaded, is not an error; a function
 * whose config space cannot be read (it vanished) is skipped.  libpci's
 * failures come back as errors: it neither prints nor ends the process
 * (short of memory running out in pci_alloc()).
 *
 * Return: 0; -ENOENT if @sysfs_root or an attribute the driver must provide
 * is missing; -EPROTO if an attribute holds a value the library cannot
 * parse, or bus/pci/devices holds an entry that is not a PCI address;
 * -ENAMETOOLONG if @sysfs_root is too long for libpci; -EIO if libpci
 * failed; -ENOMEM; or another negative errno from reading sysfs.
 */
IONPU_API int ionpu_list(const char *sysfs_root, struct ionpu_card **cards,
			 size_t *count);

/**
 * ionpu_list_free() - free what ionpu_list() returned
 * @cards: the array, or NULL.
 */
IONPU_API void ionpu_list_free(struct ionpu_card *cards);

/**
 * ionpu_open() - open a card
 * @what: the card's device node ("/dev/ionpu0": anything starting with '/'),
 *        its index ("0" for /dev/ionpu0), or its PCI address
 *        ("0000:00:03.0", or "00:03.0" for domain 0).
 * @out: out: the open card; close it with ionpu_close().
 *
 * Checks that the node is an IONPU card by asking it for its identity.
 *
 * Return: 0; -EINVAL if @what is none of the forms above; -ENOENT or
 * another open(2) error for the node; -ENODEV if no card is at that PCI
 * address, the ionpu driver does not serve it, or the node is not a
 * character device; -ENOTTY if the node is not an IONPU card; -ENOMEM.
 */
IONPU_API int ionpu_open(const char *what, struct ionpu_dev **out);

/**
 * ionpu_close() - close a card opened with ionpu_open()
 * @dev: the card, or NULL.
 */
IONPU_API void ionpu_close(struct ionpu_dev *dev);

/**
 * ionpu_info() - read an open card's identity and geometry
 * @dev: the card.
 * @out: out: what the card reports.
 *
 * Return: 0; -EINVAL for a NULL argument; -ENODEV if the card is gone;
 * another negative errno from the driver.
 */
IONPU_API int ionpu_info(struct ionpu_dev *dev, struct ionpu_dev_info *out);

/**
 * struct ionpu_activity - what a card, or the host reference, has done
 * @timesteps: time steps run.
 * @spikes_in: input spike events given by the host.
 * @spikes_out: neuron spikes, whether routed to the host or not.
 * @synaptic_events: crossbar cells read by spike events.
 * @program_pulses: SET and RESET pulses applied to cells.
 * @busy_ns: modeled time the fabric was busy, in ns.
 * @energy_fj: modeled energy, in fJ (docs/physics.md gives the constants).
 *
 * The counters only grow, so the difference of two readings is what was
 * done in between.
 */
struct ionpu_activity {
	uint64_t timesteps;
	uint64_t spikes_in;
	uint64_t spikes_out;
	uint64_t synaptic_events;
	uint64_t program_pulses;
	uint64_t busy_ns;
	uint64_t energy_fj;
};

/**
 * ionpu_activity() - read a card's activity counters
 * @dev: the card.
 * @out: out: the counters since the card's last reset.
 *
 * The counters are the whole card's: what other open files run on it
 * counts too, which is why the driver gives them only to a caller with
 * CAP_PERFMON (or CAP_SYS_ADMIN).  ionpu_loaded_activity() gives a
 * network's own.
 *
 * Return: 0; -EINVAL for a NULL argument; -ENODEV if the card is gone;
 * -EPERM without CAP_PERFMON; another negative errno from the driver.
 */
IONPU_API int ionpu_activity(struct ionpu_dev *dev, struct ionpu_activity *out);

/*
 * Network model.
 *
 * A network is a set of nodes -- inputs (spike sources the host drives) and
 * populations (neurons of one model) -- joined by projections (synapses from
 * a node to a population).  Nodes and projections are numbered from 0 in the
 * order they were added.  Parameters follow NIR's neuron models and units:
 * time constants and delays in seconds, one value per neuron.
 */

/* An editable network; only the library sees inside. */
struct ionpu_network;

/**
 * enum ionpu_neuron_model - how a population's neurons integrate and fire
 * @IONPU_NEURON_LIF: leaky integrate-and-fire,
 *	tau dv/dt = (v_leak - v) + r (i + bias); spike and v = v_reset when
 *	v > v_threshold.
 * @IONPU_NEURON_IF: integrate-and-fire, dv/dt = r (i + bias), same firing.
 *	NIR's Integrator is an IF whose v_threshold is +infinity.
 * @IONPU_NEURON_LI: leaky integrator, as LIF but never fires.
 * @IONPU_NEURON_CUBA_LIF: current-based LIF: tau_syn di/dt = -i + w_in x,
 *	tau_mem dv/dt = (v_leak - v) + r (i + bias), same firing.
 * @IONPU_NEURON_THRESHOLD: stateless: spikes in every step where its input
 *	exceeds v_threshold (NIR's Threshold).
 */
enum ionpu_neuron_model {
	IONPU_NEURON_LIF = 1,
	IONPU_NEURON_IF,
	IONPU_NEURON_LI,
	IONPU_NEURON_CUBA_LIF,
	IONPU_NEURON_THRESHOLD,
};

/**
 * struct ionpu_neuron_params - per-neuron parameters of a population
 * @tau: membrane time constant (LIF, LI).
 * @tau_syn: synaptic time constant (CubaLIF).
 * @tau_mem: membrane time constant (CubaLIF).
 * @r: resistance (all but Threshold).
 * @v_leak: leak potential (LIF, LI, CubaLIF).
 * @v_threshold: firing threshold (LIF, IF, CubaLIF, Threshold).
 * @v_reset: potential after a spike (LIF, IF, CubaLIF); NULL means zeros.
 * @w_in: input weight (CubaLIF); NULL means ones.
 * @bias: constant input current, e.g. an Affine's bias; NULL means zeros.
 *
 * Each member is NULL or an array with one value per neuron.  A model's
 * parameters without a default above are required; members a model does
 * not use must be NULL.
 */
struct ionpu_neuron_params {
	const double *tau;
	const double *tau_syn;
	const double *tau_mem;
	const double *r;
	const double *v_leak;
	const double *v_threshold;
	const double *v_reset;
	const double *w_in;
	const double *bias;
};

/**
 * enum ionpu_node_kind - what a network node is
 * @IONPU_NODE_INPUT: spikes from the host.
 * @IONPU_NODE_POPULATION: neurons on the card.
 */
enum ionpu_node_kind {
	IONPU_NODE_INPUT = 1,
	IONPU_NODE_POPULATION,
};

/**
 * struct ionpu_node_info - one node of a network, as ionpu_network_node() sees it
 * @name: unique name, NUL terminated.
 * @kind: input or population.
 * @model: neuron model of a population; 0 for an input.
 * @size: number of neurons (or input channels).
 * @output: the population's spikes go to the host.
 * @params: a population's parameters; every member the model uses is set
 *          (defaults filled in, @bias included), the others are NULL.
 *
 * The pointers belong to the network and live until it is freed.
 */
struct ionpu_node_info {
	const char *name;
	enum ionpu_node_kind kind;
	enum ionpu_neuron_model model;
	uint32_t size;
	bool output;
	struct ionpu_neuron_params params;
};

/**
 * enum ionpu_projection_kind - how a projection stores its synapses
 * @IONPU_PROJ_DENSE: a full weight matrix.
 * @IONPU_PROJ_SPARSE: a list of (pre, post, weight) synapses.
 * @IONPU_PROJ_CONV: a convolution kernel, unrolled by the compiler.
 */
enum ionpu_projection_kind {
	IONPU_PROJ_DENSE = 1,
	IONPU_PROJ_SPARSE,
	IONPU_PROJ_CONV,
};

/**
 * struct ionpu_conv - a 2-D convolution from one node onto a population
 * @in_channels: channels of the source, seen as in_channels x in_height x
 *               in_width (row-major) neurons.
 * @in_height: source height; 1 for a 1-D convolution.
 * @in_width: source width.
 * @out_channels: channels of the target.
 * @out_height: target height: set by the library from the other members.
 * @out_width: target width: set by the library from the other members.
 * @kernel_h: kernel height.
 * @kernel_w: kernel width.
 * @stride_h: vertical stride, at least 1.
 * @stride_w: horizontal stride, at least 1.
 * @pad_h: zero padding above and below.
 * @pad_w: zero padding left and right.
 * @dilation_h: vertical dilation, at least 1.
 * @dilation_w: horizontal dilation, at least 1.
 * @groups: channel groups; divides both channel counts.
 * @weight: out_channels x (in_channels / groups) x kernel_h x kernel_w
 *          weights, row-major, as NIR and PyTorch store them.
 *
 * Output sizes follow PyTorch: out = (in + 2 pad - dilation (kernel - 1)
 * - 1) / stride + 1.  Sum and average pooling are convolutions with
 * @groups equal to the channels and constant weights.
 */
struct ionpu_conv {
	uint32_t in_channels;
	uint32_t in_height;
	uint32_t in_width;
	uint32_t out_channels;
	uint32_t out_height;
	uint32_t out_width;
	uint32_t kernel_h;
	uint32_t kernel_w;
	uint32_t stride_h;
	uint32_t stride_w;
	uint32_t pad_h;
	uint32_t pad_w;
	uint32_t dilation_h;
	uint32_t dilation_w;
	uint32_t groups;
	const double *weight;
};

/**
 * struct ionpu_projection_info - one projection, as ionpu_network_projection() sees it
 * @kind: how the synapses are stored.
 * @src: source node (an input or a population).
 * @dst: target population.
 * @weight: %IONPU_PROJ_DENSE: dst size x src size, row-major (NIR's
 *          Linear layout: row = target neuron); %IONPU_PROJ_SPARSE: @nnz
 *          weights; NULL for a convolution.
 * @nnz: %IONPU_PROJ_SPARSE: number of synapses.
 * @pre: %IONPU_PROJ_SPARSE: source neuron of each synapse.
 * @post: %IONPU_PROJ_SPARSE: target neuron of each synapse.
 * @conv: %IONPU_PROJ_CONV: the convolution, output sizes filled in.
 * @delay: NULL, or one axonal delay in seconds per source neuron.
 *
 * The pointers belong to the network and live until it is freed.
 */
struct ionpu_projection_info {
	enum ionpu_projection_kind kind;
	uint32_t src;
	uint32_t dst;
	const double *weight;
	size_t nnz;
	const uint32_t *pre;
	const uint32_t *post;
	struct ionpu_conv conv;
	const double *delay;
};

/**
 * ionpu_network_create() - make an empty network
 * @out: out: the network; free it with ionpu_network_free().
 *
 * Return: 0 or -ENOMEM.
 */
IONPU_API int ionpu_network_create(struct ionpu_network **out);

/**
 * ionpu_network_free() - free a network
 * @net: the network, or NULL.
 */
IONPU_API void ionpu_network_free(struct ionpu_network *net);

/**
 * ionpu_network_add_input() - add an input: @size channels the host drives
 * @net: the network.
 * @name: a name no other node has.
 * @size: number of channels, at least 1.
 * @id: out, may be NULL: the new node's number.
 *
 * Return: 0; -EINVAL for a NULL or empty name or a zero size; -EEXIST if
 * the name is taken; -ENOMEM.
 */
IONPU_API int ionpu_network_add_input(struct ionpu_network *net, const char *name,
				      uint32_t size, uint32_t *id);

/**
 * ionpu_network_add_population() - add @size neurons of one model
 * @net: the network.
 * @name: a name no other node has.
 * @model: the neuron model.
 * @size: number of neurons, at least 1.
 * @params: the parameters (copied); see &struct ionpu_neuron_params.
 * @id: out, may be NULL: the new node's number.
 *
 * Return: 0; -EINVAL for a bad argument, a missing required parameter or
 * one the model does not use, a NaN parameter or a time constant that is
 * not positive; -EEXIST if the name is taken; -ENOMEM.
 */
IONPU_API int ionpu_network_add_population(struct ionpu_network *net, const char *name,
					   enum ionpu_neuron_model model, uint32_t size,
					   const struct ionpu_neuron_params *params,
					   uint32_t *id);

/**
 * ionpu_network_add_dense() - connect every neuron of @src to every one of @dst
 * @net: the network.
 * @src: source node.
 * @dst: target population.
 * @weight: dst size x src size weights, row-major (copied).
 * @delay: NULL or one delay in seconds per source neuron, each >= 0 (copied).
 * @id: out, may be NULL: the new projection's number.
 *
 * @src may be @dst (recurrence).  Return: 0; -EINVAL for a bad node, a
 * target that is not a population, a non-finite weight or a bad delay;
 * -ENOMEM.
 */
IONPU_API int ionpu_network_add_dense(struct ionpu_network *net, uint32_t src, uint32_t dst,
				      const double *weight, const double *delay, uint32_t *id);

/**
 * ionpu_network_add_sparse() - connect listed pairs of neurons
 * @net: the network.
 * @src: source node.
 * @dst: target population.
 * @nnz: number of synapses, at least 1.
 * @pre: source neuron of each synapse.
 * @post: target neuron of each synapse.
 * @weight: weight of each synapse.
 * @delay: NULL or one delay in seconds per source neuron.
 * @id: out, may be NULL: the new projection's number.
 *
 * A (pre, post) pair may appear once.  Return: 0; -EINVAL as for
 * ionpu_network_add_dense(), or for an index out of range or a repeated
 * pair; -ENOMEM.
 */
IONPU_API int ionpu_network_add_sparse(struct ionpu_network *net, uint32_t src, uint32_t dst,
				       size_t nnz, const uint32_t *pre, const uint32_t *post,
				       const double *weight, const double *delay, uint32_t *id);

/**
 * ionpu_network_add_conv() - connect @src to @dst through a convolution
 * @net: the network.
 * @src: source node, of in_channels x in_height x in_width neurons.
 * @dst: target population, of out_channels x out_height x out_width neurons.
 * @conv: the convolution (copied); its output sizes are computed here.
 * @delay: NULL or one delay in seconds per source neuron.
 * @id: out, may be NULL: the new projection's number.
 *
 * Return: 0; -EINVAL for a bad node, inconsistent geometry (the message
 * says which), sizes that do not match the nodes, or a bad weight or
 * delay; -ENOMEM.
 */
IONPU_API int ionpu_network_add_conv(struct ionpu_network *net, uint32_t src, uint32_t dst,
				     const struct ionpu_conv *conv, const double *delay,
				     uint32_t *id);

/**
 * ionpu_network_mark_output() - send a population's spikes to the host
 * @net: the network.
 * @id: the population.
 *
 * Return: 0; -EINVAL if @id is not a population.
 */
IONPU_API int ionpu_network_mark_output(struct ionpu_network *net, uint32_t id);

/**
 * ionpu_network_node_count() - number of nodes
 * @net: the network.
 *
 * Return: the count; nodes are numbered 0 to count - 1.
 */
IONPU_API size_t ionpu_network_node_count(const struct ionpu_network *net);

/**
 * ionpu_network_projection_count() - number of projections
 * @net: the network.
 *
 * Return: the count; projections are numbered 0 to count - 1.
 */
IONPU_API size_t ionpu_network_projection_count(const struct ionpu_network *net);

/**
 * ionpu_network_find() - look a node up by name
 * @net: the network.
 * @name: the name.
 * @id: out: its number.
 *
 * Return: 0; -ENOENT if no node has that name; -EINVAL for NULL.
 */
IONPU_API int ionpu_network_find(const struct ionpu_network *net, const char *name,
				 uint32_t *id);

/**
 * ionpu_network_node() - describe a node
 * @net: the network.
 * @id: the node's number.
 * @out: out: the description.
 *
 * Return: 0; -EINVAL if there is no such node.
 */
IONPU_API int ionpu_network_node(const struct ionpu_network *net, uint32_t id,
				 struct ionpu_node_info *out);

/**
 * ionpu_network_projection() - describe a projection
 * @net: the network.
 * @id: the projection's number.
 * @out: out: the description.
 *
 * Return: 0; -EINVAL if there is no such projection.
 */
IONPU_API int ionpu_network_projection(const struct ionpu_network *net, uint32_t id,
				       struct ionpu_projection_info *out);

/**
 * ionpu_network_projection_matrix() - a projection's weights as one matrix
 * @net: the network.
 * @id: the projection's number.
 * @out: dst size x src size doubles, row-major, written in full: sparse and
 *       convolutional projections are expanded, absent synapses are 0.
 *
 * Return: 0; -EINVAL if there is no such projection.
 */
IONPU_API int ionpu_network_projection_matrix(const struct ionpu_network *net, uint32_t id,
					      double *out);

/*
 * NIR: the Neuromorphic Intermediate Representation (neuroir.org), as HDF5
 * files.  Separate threads may call these at once: libionpu serialises
 * its own use of libhdf5, which not every build of it makes thread-safe.
 */

/**
 * ionpu_nir_load() - read a NIR graph and fold it into a network
 * @path: the .nir file.
 * @out: out: the network; free it with ionpu_network_free().
 *
 * Nested graphs are flattened (their nodes named "graph.node"); Input nodes
 * become inputs; LIF, IF, LI, CubaLIF, Integrator and Threshold nodes
 * become populations; the chain of Affine, Linear, Scale, Conv1d, Conv2d,
 * SumPool2d, AvgPool2d, Flatten and Delay nodes between two of them becomes
 * one projection, Affine and convolution biases the target's @bias; Output
 * nodes mark the population feeding them.  An edge endpoint that names no
 * node of its graph resolves to the one node whose name it begins (files
 * exported by snnTorch's recurrent layers name "lif" for the node "lif1").
 * Nodes are numbered in the order the file lists them, projections in the
 * order it lists the node next to their target: the order they were
 * written in where the file keeps it (ionpu_nir_save() does), else by name.
 *
 * libhdf5 can crash on a damaged file before any check sees a value, so
 * the file is first read the same way in a child process (fork()): a file
 * that crashes it there, keeps it busy for more than two minutes of CPU or
 * does not let it end within ten, is refused, and the caller carries on.
 *
 * Return: 0; -ENOENT or another errno if the file cannot be read; -EPROTO
 * for a malformed file (not HDF5 or truncated, damaged so that libhdf5
 * crashes on it, missing or mistyped
 * dataset, wrong shape, dangling edge, a cycle with no neuron in it);
 * -EOPNOTSUPP for a valid graph the network model cannot express (unknown
 * node type, an Output fed by no neurons, ...); -ENOMEM.  The message names
 * the node and the reason.
 */
IONPU_API int ionpu_nir_load(const char *path, struct ionpu_network **out);

/**
 * ionpu_nir_save() - write a network as a NIR graph
 * @net: the network.
 * @path: the file to create or truncate.
 *
 * Inputs become Input nodes, populations neuron nodes (an IF with
 * every threshold infinite stays an IF), projections Linear (or Affine,
 * carrying the target's bias) and Conv2d nodes, delays Delay nodes, output
 * populations feed Output nodes.  ionpu_nir_load() reads the result back to
 * the same network, its nodes and projections numbered as here and every
 * value bit for bit, sparse projections becoming dense.
 *
 * Return: 0; -EOPNOTSUPP if a population's bias cannot be expressed (no
 * projection into it, or only convolutions and a bias that is not constant
 * per channel); -EIO or another negative errno if the file cannot be
 * written; -ENOMEM.
 */
IONPU_API int ionpu_nir_save(const struct ionpu_network *net, const char *path);

/*
 * Compiler: maps a network onto the tiles of a card, offline.
 */

/**
 * struct ionpu_card_desc - what the compiler may use
 * @tiles: crossbar tiles.
 * @tile_rows: crossbar rows (synaptic inputs) per tile.
 * @tile_neurons: neurons (crossbar columns) per tile.
 * @g_min_us: lowest programmable conductance, microsiemens.
 * @g_max_us: highest programmable conductance, microsiemens.
 * @g_levels: distinct conductances between them, both ends included.
 * @max_delay_steps: longest axonal delay the router can add, in steps.
 * @dt: the length of a time step in seconds, to turn delays into steps.
 */
struct ionpu_card_desc {
	uint32_t tiles;
	uint32_t tile_rows;
	uint32_t tile_neurons;
	double g_min_us;
	double g_max_us;
	uint32_t g_levels;
	uint32_t max_delay_steps;
	double dt;
};

/**
 * ionpu_card_desc_default() - IONPU-1's geometry with @tiles tiles
 * @tiles: number of tiles.
 * @out: out: 256 rows x 256 neurons per tile, 1..101 uS in 256 levels,
 *       delays up to 255 steps, dt 1 ms.
 */
IONPU_API void ionpu_card_desc_default(uint32_t tiles, struct ionpu_card_desc *out);

/**
 * ionpu_card_desc_of() - describe an open card for the compiler
 * @dev: the card.
 * @out: out: its tiles and geometry as the card reports them, IONPU-1's
 *       conductance range, levels and delays, dt 1 ms.
 *
 * Return: 0; -EOPNOTSUPP for a card that is not an IONPU-1 (another major
 * version) or has no command queues; what ionpu_info() returns.
 */
IONPU_API int ionpu_card_desc_of(struct ionpu_dev *dev, struct ionpu_card_desc *out);

/* A network mapped onto a card; only the library sees inside. */
struct ionpu_plan;

/**
 * struct ionpu_plan_stats - what a plan uses
 * @tiles: tiles used.
 * @rows: crossbar rows used, over all tiles.
 * @neurons: neurons used.
 * @cells: programmed cells (differential pairs with a non-zero weight).
 * @chain_groups: groups of two or more tiles whose columns are summed.
 * @routes: router entries: one per (source neuron, tile, row, delay).
 * @outputs: neurons whose spikes go to the host.
 */
struct ionpu_plan_stats {
	uint32_t tiles;
	uint64_t rows;
	uint64_t neurons;
	uint64_t cells;
	uint32_t chain_groups;
	uint64_t routes;
	uint64_t outputs;
};

/**
 * ionpu_compile() - map a network onto a card
 * @net: the network.
 * @card: the card, e.g. from ionpu_card_desc_default().
 * @out: out: the plan; free it with ionpu_plan_free().
 *
 * Splits each population into groups of at most @card->tile_neurons
 * neurons; a group whose synaptic inputs (distinct source neuron and delay)
 * exceed @card->tile_rows gets a chain of tiles whose columns sum.  Small
 * groups share tiles.  Convolutions are unrolled into rows, recurrence and
 * delays go through the router, and each tile gets the conductance scale
 * that maps its largest weight onto the full range.
 *
 * Return: 0; -ENOSPC if the network needs more tiles than the card has
 * (the message gives the count and the biggest consumers); -ERANGE if a
 * delay is longer than the router allows or not a whole number of steps;
 * -EINVAL for a bad card description, or one beyond what an IONPU-1 can
 * be (more than %IONPU_CARD_MAX_TILES tiles, bigger tiles, more conductance
 * levels or longer delays than ionpu_card_desc_default() gives), or a
 * time constant below the time step (see ionpu_compile_flags()); -ENOMEM.
 */
IONPU_API int ionpu_compile(const struct ionpu_network *net, const struct ionpu_card_desc *card,
			    struct ionpu_plan **out);

/*
 * Flags of ionpu_compile_flags().
 * IONPU_COMPILE_ALLOW_UNSTABLE: compile a population whose time constant is
 * shorter than the time step (dt / tau > 1), where forward Euler overshoots
 * the value it relaxes to and the neurons' spikes are not the continuous
 * model's.
 */
#define IONPU_COMPILE_ALLOW_UNSTABLE	(1u << 0)

/**
 * ionpu_compile_flags() - map a network onto a card, with flags
 * @net: the network.
 * @card: the card, e.g. from ionpu_card_desc_default().
 * @flags: IONPU_COMPILE_* flags; 0 is ionpu_compile().
 * @out: out: the plan; free it with ionpu_plan_free().
 *
 * As ionpu_compile().  The neurons are integrated with forward Euler
 * (docs/physics.md), which for a time constant tau below @card->dt
 * (a = dt / tau > 1) overshoots, oscillates or diverges: the network runs and
 * computes something else than the continuous model.  Such a network is
 * refused unless @flags has %IONPU_COMPILE_ALLOW_UNSTABLE.  IF and Threshold
 * neurons have no time constant.
 *
 * Return: as ionpu_compile(); -EINVAL for unknown @flags, or a tau (LIF, LI),
 * tau_mem or tau_syn (CubaLIF) below @card->dt without
 * %IONPU_COMPILE_ALLOW_UNSTABLE: the message names the population, the
 * neuron, its time constant and dt.
 */
IONPU_API int ionpu_compile_flags(const struct ionpu_network *net,
				  const struct ionpu_card_desc *card, uint32_t flags,
				  struct ionpu_plan **out);

/*
 * Flag of &struct ionpu_compile_opts.
 * IONPU_COMPILE_LEARN_FROM_ZERO: the learned populations' weights start at
 * zero (both devices of every cell on the lowest level), so that what the
 * card learns owes nothing to weights learned elsewhere.  The network's
 * weights still set the tile's conductance scale.
 */
#define IONPU_COMPILE_LEARN_FROM_ZERO	(1u << 1)

/**
 * struct ionpu_compile_opts - how ionpu_compile_with() maps a network
 * @size: sizeof(struct ionpu_compile_opts) as the caller was built with, so
 *        that the struct can grow: a larger @size is taken when the bytes
 *        this library does not know are zero.
 * @flags: IONPU_COMPILE_* flags.
 * @learn: NULL, or the names of @n_learn populations the card is to learn
 *         (ionpu_learn_start()).
 * @n_learn: how many.
 *
 * A learned population gets a tile of its own: its neurons are that tile's
 * columns and every source neuron of its one dense projection is a row, zero
 * weights included, so that the learning rule can reach every cell.  It
 * must therefore have at most one tile's neurons, its source at most one
 * tile's rows, and exactly one projection into it, a dense one.  The tile's
 * scale maps the largest |weight| of that projection onto the conductance
 * range (|weight| 1 if all are zero).
 */
struct ionpu_compile_opts {
	size_t size;
	uint32_t flags;
	const char *const *learn;
	size_t n_learn;
};

/**
 * ionpu_compile_with() - map a network onto a card, with options
 * @net: the network.
 * @card: the card, e.g. from ionpu_card_desc_default().
 * @opts: the options; NULL is ionpu_compile().
 * @out: out: the plan; free it with ionpu_plan_free().
 *
 * As ionpu_compile_flags() with @opts->flags, and with @opts->learn's
 * populations laid out for learning (see &struct ionpu_compile_opts).
 *
 * Return: as ionpu_compile_flags(); -EINVAL for a @size smaller than the
 * first version's or unknown bytes beyond it that are not zero, unknown
 * flags, a learned name that is no population or appears twice, or a
 * learned population that cannot be learned on one tile (more neurons than
 * a tile has, more source neurons than its rows, no projection, several,
 * or one that is not dense): the message names the population and why.
 */
IONPU_API int ionpu_compile_with(const struct ionpu_network *net,
				 const struct ionpu_card_desc *card,
				 const struct ionpu_compile_opts *opts,
				 struct ionpu_plan **out);

/**
 * ionpu_plan_free() - free a plan
 * @plan: the plan, or NULL.
 */
IONPU_API void ionpu_plan_free(struct ionpu_plan *plan);

/**
 * ionpu_plan_id() - what a plan was compiled from, as one number
 * @plan: the plan.
 *
 * A hash of everything that determines the plan: the network (its nodes'
 * names, models, sizes, output flags and parameters, its projections'
 * weights, synapses and delays, in their order), the card description
 * (geometry, conductances, delays, dt) and the compile options.  Two plans
 * with the same id were compiled from the same inputs; a plan whose network
 * changed since is refused by ionpu_host_new() and ionpu_load() with
 * -ESTALE, naming the node or projection, whatever its id.  The card's
 * revision and calibration record are not part of it: the compiler does not
 * see them (ionpu_load() applies the calibration when it programs).
 *
 * Return: the id; print it as 16 hex digits.
 */
IONPU_API uint64_t ionpu_plan_id(const struct ionpu_plan *plan);

/**
 * ionpu_plan_stats() - what a plan uses
 * @plan: the plan.
 * @out: out: the totals.
 */
IONPU_API void ionpu_plan_stats(const struct ionpu_plan *plan, struct ionpu_plan_stats *out);

/**
 * ionpu_plan_dump() - describe a plan in text, one tile per line and totals
 * @plan: the plan.
 * @out: where to write.
 *
 * Return: 0; -EIO if writing failed.
 */
IONPU_API int ionpu_plan_dump(const struct ionpu_plan *plan, FILE *out);

/*
 * Host reference: a plan run in software on the card's own model core in
 * ideal mode (no noise, exact quantized conductances), so its output is
 * what a noise-free card gives.  Rasters are what the card path uses too:
 * row-major, one row per time step; inputs are the channels of every input
 * node in node order, outputs the neurons of every output population in node
 * order.  Each hop between populations takes one time step, as on the card:
 * a spike in step t reaches its targets in step t + 1 + delay, while host
 * input of step t is integrated in step t (plus its projection's delay).
 * Biases of LIF, LI and CubaLIF neurons join the leak (v_leak + r bias).
 */

/* A plan loaded into the host reference; only the library sees inside. */
struct ionpu_host;

/**
 * ionpu_host_new() - load a plan into the host reference
 * @net: the network @plan was compiled from (the plan has no neuron
 *       parameters).
 * @plan: the plan, from ionpu_compile().
 * @out: out: the session, at time step 0; free it with ionpu_host_free().
 *
 * Neither @net nor @plan is used after the call returns.
 *
 * Return: 0; -EINVAL for a NULL argument, a plan of other nodes than
 * @net's, or a network with no output population (a run would return
 * nothing); -ESTALE for a plan compiled before a node or projection of @net
 * changed (the message names it; see ionpu_plan_id()); -EOPNOTSUPP for a plan the card cannot run (geometry, conductance
 * levels, two neuron models on one tile, an IF neuron with a bias, a
 * fan-out over 256 rows); -ERANGE for a parameter outside 32-bit float;
 * -ENOMEM.
 */
IONPU_API int ionpu_host_new(const struct ionpu_network *net, const struct ionpu_plan *plan,
			     struct ionpu_host **out);

/**
 * ionpu_host_free() - free a session
 * @h: the session, or NULL.
 */
IONPU_API void ionpu_host_free(struct ionpu_host *h);

/**
 * ionpu_host_inputs() - input channels: the columns of an input raster
 * @h: the session.
 *
 * Return: the sum of the sizes of the network's input nodes.
 */
IONPU_API size_t ionpu_host_inputs(const struct ionpu_host *h);

/**
 * ionpu_host_outputs() - output neurons: the columns of an output raster
 * @h: the session.
 *
 * Return: the number of neurons of the network's output populations.
 */
IONPU_API size_t ionpu_host_outputs(const struct ionpu_host *h);

/**
 * ionpu_host_run() - run time steps
 * @h: the session.
 * @in: @steps x ionpu_host_inputs() values, row-major: 1 for a spike, 0 for
 *      none, or a graded value.
 * @steps: time steps to run.
 * @out: out: @steps x ionpu_host_outputs() bytes, row-major, 1 where the
 *       neuron spiked in that step, else 0.
 *
 * Runs on from where the last run stopped: state, spikes in flight and
 * inputs delayed past the run's end carry over; ionpu_host_reset() starts
 * afresh.  Input events are queued as the card's driver feeds a job's, one
 * window of 256 steps from the run's start at a time: those landing in a
 * window are queued when it begins, after the spikes earlier windows sent
 * into it and before the ones its own steps send.  A neuron adds up its
 * inputs in that order, in float, so two runs split at other places than
 * whole windows may differ in the last bit; split the same way (or at whole
 * windows), the host and the card agree bit for bit.
 *
 * Return: 0; -EINVAL for a NULL argument or a value that is NaN or whose
 * magnitude exceeds %IONPU_INPUT_MAX (nothing is run then; the message names
 * the step, the channel and the value); -EOVERFLOW if the raster's size overflows; -ENOMEM
 * if spikes in flight could not be queued.
 */
IONPU_API int ionpu_host_run(struct ionpu_host *h, const float *in, size_t steps, uint8_t *out);

/**
 * ionpu_host_run_batch() - run several samples, each from rest
 * @h: the session.
 * @in: @samples rasters of @steps x ionpu_host_inputs() values, one after
 *      the other, as for ionpu_host_run().
 * @samples: how many.
 * @steps: time steps of each.
 * @out: out: @samples rasters of @steps x ionpu_host_outputs() bytes.
 *
 * Each sample starts from rest, as after ionpu_host_reset(), and so does
 * the next ionpu_host_run().
 *
 * Return: as ionpu_host_run(); the message names the sample at fault.
 */
IONPU_API int ionpu_host_run_batch(struct ionpu_host *h, const float *in, size_t samples,
				   size_t steps, uint8_t *out);

/**
 * ionpu_host_activity() - the host reference's activity counters
 * @h: the session.
 * @out: out: what its fabric has done since ionpu_host_new(), counted as
 *       the card counts (ionpu_host_reset() does not clear them).
 */
IONPU_API void ionpu_host_activity(const struct ionpu_host *h, struct ionpu_activity *out);

/**
 * ionpu_host_reset() - neuron state back to zero, spikes in flight dropped
 * @h: the session.
 */
IONPU_API void ionpu_host_reset(struct ionpu_host *h);

/*
 * The card path: a plan loaded onto a card (tiles leased, neurons and
 * routes configured, weights programmed with write-verify), then run.  The
 * card gets the same image of the plan and the same input events, in the
 * same order, as the host reference, so in ideal mode its output equals
 * ionpu_host_run()'s bit for bit.  Rasters are laid out as for the host
 * reference.
 */

/* A plan loaded onto a card; only the library sees inside. */
struct ionpu_loaded;

/* Flags of &struct ionpu_load_opts. */
#define IONPU_LOAD_PHYSICAL	(1u << 0)	/* physical mode, else ideal */
#define IONPU_LOAD_NO_CALIB	(1u << 1)	/* ignore the calibration record */

/**
 * struct ionpu_load_opts - how to load
 * @flags: %IONPU_LOAD_* bits.  Ideal mode (the default) has no device
 *         noise: every cell lands on its level and neurons follow their
 *         model exactly.  Physical mode shows the devices' non-idealities
 *         and runs the diffusive-memristor neurons; stuck devices are
 *         compensated there (see ionpu_load()).
 * @pulse_budget: most write-verify pulses per device; 0 means 100.
 */
struct ionpu_load_opts {
	uint32_t flags;
	uint32_t pulse_budget;
};

/**
 * struct ionpu_program_stats - what programming the weights achieved
 * @cells: differential pairs programmed (every cell of the used rows and
 *         columns, zero weights included: they clear what was there).
 * @devices: devices programmed (two per cell, fewer when one is stuck).
 * @pulses: write-verify pulses used.
 * @mean_error_us: mean |achieved - target| over @devices, microsiemens.
 * @max_error_us: the largest of them.
 * @mean_weight_error: mean |achieved - quantized weight| over @cells, in the
 *                     network's weight units.
 * @max_weight_error: the largest of them.
 * @stuck: devices found stuck (by the write-verify or the calibration record).
 * @remapped: cells with a stuck device whose partner was programmed so that
 *            G+ - G- still gives the weight.
 * @failed: cells whose weight was not reached: a device ran out of pulses,
 *          or a stuck device's partner could not make up for it.
 */
struct ionpu_program_stats {
	uint64_t cells;
	uint64_t devices;
	uint64_t pulses;
	double mean_error_us;
	double max_error_us;
	double mean_weight_error;
	double max_weight_error;
	uint64_t stuck;
	uint64_t remapped;
	uint64_t failed;
};

/**
 * enum ionpu_cell_outcome - what happened to a cell worth reporting
 * @IONPU_CELL_REMAPPED: one device is stuck; its partner makes up for it.
 * @IONPU_CELL_FAILED_STUCK: one device is stuck and the range does not let
 *                           its partner make up for it (or both are stuck).
 * @IONPU_CELL_FAILED_BUDGET: a device ran out of pulses before its target.
 */
enum ionpu_cell_outcome {
	IONPU_CELL_REMAPPED = 1,
	IONPU_CELL_FAILED_STUCK,
	IONPU_CELL_FAILED_BUDGET,
};

/**
 * struct ionpu_cell_note - one cell that was remapped or failed
 * @tile: the plan's tile.
 * @card_tile: the card's tile it was loaded on.
 * @row: crossbar row.
 * @column: crossbar column.
 * @outcome: what happened.
 * @weight: the quantized weight asked for, network units.
 * @achieved: the weight the verify reads give, network units.
 */
struct ionpu_cell_note {
	uint32_t tile;
	uint32_t card_tile;
	uint32_t row;
	uint32_t column;
	enum ionpu_cell_outcome outcome;
	double weight;
	double achieved;
};

/**
 * ionpu_load() - load a plan onto a card
 * @dev: the card.
 * @net: the network @plan was compiled from.
 * @plan: the plan, compiled for this card (ionpu_card_desc_of()).
 * @opts: NULL for the defaults (ideal mode, calibration record used in
 *        physical mode, 100 pulses per device).
 * @out: out: the loaded network; free it with ionpu_unload().
 *
 * Opens a file of its own on the card's node and leases the plan's tile
 * count there (a plan's tiles are numbered from 0; they land on whichever
 * tiles the card has free), so each loaded network is isolated from every
 * other, in this process or another.  Then it configures tiles, chains and
 * neurons, replaces the routes of every neuron of those tiles, and programs
 * every cell of the used rows and columns with write-verify: target the
 * level's conductance, tolerance a quarter level (in physical mode both
 * devices of a pair are lifted by up to 4 levels, G+ - G- unchanged: a real
 * device's lowest conductance spreads around the nominal one).  In physical
 * mode a stuck device (the write-verify says so, or the card's calibration
 * record lists it) makes its partner take a target that keeps G+ - G- at
 * the weight when the conductance range allows (remapped), else the cell
 * failed; ionpu_loaded_report() tells.  A failed cell does not fail the load.
 *
 * Return: 0; -EINVAL for a bad argument, a plan not of @net or a network
 * with no output population; -ESTALE for a plan compiled before @net
 * changed, as ionpu_host_new(); -EOPNOTSUPP for a plan the card cannot run
 * (as ionpu_host_new(), and Threshold
 * neurons, which need the host to clear them every step); -EBUSY when the
 * card has not that many free tiles; -ENOMEM; what the driver returns.
 */
IONPU_API int ionpu_load(struct ionpu_dev *dev, const struct ionpu_network *net,
			 const struct ionpu_plan *plan, const struct ionpu_load_opts *opts,
			 struct ionpu_loaded **out);

/**
 * typedef ionpu_progress_fn - how far ionpu_load_progress() is
 * @arg: what the caller gave ionpu_load_progress().
 * @done: device writes done so far, at most @total.
 * @total: two per cell of the used rows and columns: the writes the weights
 *         take in ideal mode (physical mode skips stuck devices and may
 *         write their partners twice).
 *
 * Called from the loading thread: before the first write (@done 0), after
 * each batch of writes the card answered, and once at the end with @done
 * equal to @total.
 *
 * Return: 0 to go on; anything else stops the load, which then fails with
 * -ECANCELED.
 */
typedef int (*ionpu_progress_fn)(void *arg, uint64_t done, uint64_t total);

/**
 * ionpu_load_progress() - load a plan onto a card, reporting progress
 * @dev: the card.
 * @net: the network @plan was compiled from.
 * @plan: the plan.
 * @opts: as for ionpu_load().
 * @progress: called as the weights are programmed; NULL is ionpu_load().
 * @arg: handed to @progress.
 * @out: out: the loaded network; free it with ionpu_unload().
 *
 * As ionpu_load().  Programming the weights with write-verify is what takes
 * long (seconds for a tile in physical mode on an emulated card), so an
 * application can show how far it is, or stop it.
 *
 * Return: as ionpu_load(); -ECANCELED when @progress asked to stop (the
 * tiles are released, nothing stays loaded).
 */
IONPU_API int ionpu_load_progress(struct ionpu_dev *dev, const struct ionpu_network *net,
				  const struct ionpu_plan *plan,
				  const struct ionpu_load_opts *opts,
				  ionpu_progress_fn progress, void *arg,
				  struct ionpu_loaded **out);

/**
 * ionpu_unload() - release a loaded network's tiles and free it
 * @n: the network, or NULL.
 */
IONPU_API void ionpu_unload(struct ionpu_loaded *n);

/**
 * ionpu_loaded_inputs() - input channels: the columns of an input raster
 * @n: the loaded network.
 *
 * Return: as ionpu_host_inputs().
 */
IONPU_API size_t ionpu_loaded_inputs(const struct ionpu_loaded *n);

/**
 * ionpu_loaded_outputs() - output neurons: the columns of an output raster
 * @n: the loaded network.
 *
 * Return: as ionpu_host_outputs().
 */
IONPU_API size_t ionpu_loaded_outputs(const struct ionpu_loaded *n);

/**
 * ionpu_loaded_report() - what programming the weights achieved, in total
 * @n: the loaded network.
 * @out: out: the totals.
 */
IONPU_API void ionpu_loaded_report(const struct ionpu_loaded *n,
				   struct ionpu_program_stats *out);

/**
 * ionpu_loaded_activity() - what a loaded network has done on its card
 * @n: the loaded network.
 * @out: out: its tiles' work since they were leased (programming them
 *       included) and the timesteps its runs ran; other tenants' work is
 *       not in it.  A reset of the card loses what was not read before it.
 *
 * Return: 0; -EINVAL for a NULL argument; -EOPNOTSUPP for a card that only
 * counts for all its tenants together (before rev 1.5); -ENODEV if the card
 * is gone; another negative errno from the driver.
 */
IONPU_API int ionpu_loaded_activity(struct ionpu_loaded *n, struct ionpu_activity *out);

/**
 * ionpu_loaded_tile_report() - what programming one tile achieved
 * @n: the loaded network.
 * @tile: the plan's tile.
 * @card_tile: out, may be NULL: the card's tile it is on.
 * @out: out: the tile's statistics.
 *
 * Return: 0; -EINVAL for a tile the plan does not have.
 */
IONPU_API int ionpu_loaded_tile_report(const struct ionpu_loaded *n, uint32_t tile,
				       uint32_t *card_tile, struct ionpu_program_stats *out);

/**
 * ionpu_loaded_cell_notes() - the cells that were remapped or failed
 * @n: the loaded network.
 * @count: out: how many.
 *
 * Return: @count notes, owned by @n; NULL when there are none.
 */
IONPU_API const struct ionpu_cell_note *ionpu_loaded_cell_notes(const struct ionpu_loaded *n,
								size_t *count);

/**
 * struct ionpu_synapse_read - one synapse as the card holds it
 * @src: source node (an input or a population).
 * @src_neuron: its neuron (or channel).
 * @dst: target population.
 * @dst_neuron: its neuron.
 * @delay_steps: the delay of the synapse's crossbar row, in steps.
 * @weight: the quantized weight the plan asked for (synapses sharing a
 *          source, delay and target have added up).
 * @read: the weight the card's read circuit gives, (G+ - G-) times the
 *        tile's scale.
 */
struct ionpu_synapse_read {
	uint32_t src;
	uint32_t src_neuron;
	uint32_t dst;
	uint32_t dst_neuron;
	uint32_t delay_steps;
	double weight;
	double read;
};

/**
 * ionpu_loaded_read_weights() - read the loaded weights back from the card
 * @n: the loaded network.
 * @out: out: one entry per non-zero synapse of the plan; free() it.
 * @count: out: how many.
 *
 * Return: 0; -ENOMEM; what the driver returns.
 */
IONPU_API int ionpu_loaded_read_weights(struct ionpu_loaded *n,
					struct ionpu_synapse_read **out, size_t *count);

/* Flags of ionpu_loaded_run() and ionpu_queue_submit(). */
#define IONPU_RUN_KEEP_STATE	(1u << 0)	/* go on from the last run */

/**
 * ionpu_loaded_run() - run time steps on the card and wait for them
 * @n: the loaded network.
 * @in: @steps x ionpu_loaded_inputs() values, as for ionpu_host_run().
 * @steps: time steps, 1 to 2^24.
 * @flags: 0 to start from rest (as after ionpu_host_reset()), or
 *         %IONPU_RUN_KEEP_STATE to go on where the last run of @n stopped,
 *         so a long input can be streamed in pieces: neuron state, spikes
 *         in flight and inputs delayed past the last run's end carry over.
 * @out: out: @steps x ionpu_loaded_outputs() bytes, as for ionpu_host_run().
 *
 * One job on the card (IONPU_IOC_JOB).  Calls on one @n must not overlap.
 * When the card was reset (by anyone: a hang, an administrator), which
 * clears its tiles' settings but keeps their cells, the run sets @n's
 * tiles up again and runs once more, from rest; with
 * %IONPU_RUN_KEEP_STATE, whose state the reset lost, it fails instead
 * (-ESTALE, or -EIO when the reset came during the run).
 *
 * Return: 0; -EINVAL for a bad argument or a value outside
 * [-%IONPU_INPUT_MAX, %IONPU_INPUT_MAX], as ionpu_host_run(); -E2BIG for more than 2^20 input events in one run; -ENOBUFS for more than
 * 2^20 output spikes in one run or when the card lost some (run it in
 * pieces); -ENOMEM; what the driver returns.
 */
IONPU_API int ionpu_loaded_run(struct ionpu_loaded *n, const float *in, size_t steps,
			       uint32_t flags, uint8_t *out);

/**
 * ionpu_loaded_run_batch() - run several samples on the card as one stream
 * @n: the loaded network.
 * @in: @samples rasters of @steps x ionpu_loaded_inputs() values, one after
 *      the other, as for ionpu_loaded_run().
 * @samples: how many.
 * @steps: time steps of each.
 * @out: out: @samples rasters of @steps x ionpu_loaded_outputs() bytes.
 *
 * Each sample is one job that starts from rest (the card clears the
 * network's tiles first), and up to 64 are in flight at once on an
 * io_uring queue of @n (or one after another where io_uring is missing).
 * Calls on one @n must not overlap, nor with a queue of @n.
 *
 * A reset of the card under the batch is handled as ionpu_loaded_run()
 * does: the tiles are set up again and the whole batch runs once more.
 *
 * Return: 0, or what ionpu_loaded_run() returns for the first sample that
 * failed (the message names it); the samples after it may not have run.
 */
IONPU_API int ionpu_loaded_run_batch(struct ionpu_loaded *n, const float *in, size_t samples,
				  size_t steps, uint8_t *out);

/*
 * The asynchronous queue of a loaded network, on io_uring: runs are
 * submitted without a syscall each, handed to the kernel in batches, and
 * complete in the order the card runs them (the order of submission).
 * One queue may be used from several threads at once: submitting and
 * reaping take separate locks, so one thread may wait for completions while
 * others submit.  Runs reach the kernel from the thread that calls
 * ionpu_queue_flush() or ionpu_queue_reap(), and io_uring cancels them
 * (-ECANCELED) if that thread exits first: flush from a thread that
 * outlives its runs, e.g. the one that reaps.  While a queue exists, run
 * the network only through it.
 */

/* A loaded network's queue; only the library sees inside. */
struct ionpu_queue;

/**
 * struct ionpu_completion - one finished run
 * @user_data: what was given to ionpu_queue_submit().
 * @status: 0, or a negative errno as ionpu_loaded_run() returns.
 * @out: the output raster given to ionpu_queue_submit(), now written (when
 *       @status is 0).
 * @steps: its time steps.
 */
struct ionpu_completion {
	uint64_t user_data;
	int status;
	uint8_t *out;
	size_t steps;
};

/**
 * ionpu_queue_new() - make a queue for a loaded network
 * @n: the loaded network; it must outlive the queue.
 * @depth: most runs in flight at once, 1 to 4096.
 * @out: out: the queue; free it with ionpu_queue_free().
 *
 * Return: 0; -EINVAL; -ENOMEM; what io_uring_queue_init() returns (e.g.
 * -ENOSYS on a kernel without io_uring).
 */
IONPU_API int ionpu_queue_new(struct ionpu_loaded *n, uint32_t depth, struct ionpu_queue **out);

/**
 * ionpu_queue_free() - wait for the runs in flight and free the queue
 * @q: the queue, or NULL.
 */
IONPU_API void ionpu_queue_free(struct ionpu_queue *q);

/**
 * ionpu_queue_submit() - queue a run
 * @q: the queue.
 * @in: @steps x ionpu_loaded_inputs() values, as for ionpu_loaded_run(); copied:
 *      it may be reused at once.
 * @steps: time steps.
 * @flags: as for ionpu_loaded_run(); %IONPU_RUN_KEEP_STATE goes on from the
 *         run submitted before this one.
 * @out: @steps x ionpu_loaded_outputs() bytes the output raster goes to; it
 *       must stay valid until the run's completion is reaped.
 * @user_data: handed back in the completion.
 *
 * No syscall: the run goes to the kernel with the next ionpu_queue_flush()
 * or ionpu_queue_reap(), from the thread that calls it.
 *
 * Return: 0; -EBUSY when @depth runs are in flight (reap some); -EINVAL,
 * -E2BIG, -ENOMEM as ionpu_loaded_run().
 */
IONPU_API int ionpu_queue_submit(struct ionpu_queue *q, const float *in, size_t steps,
				 uint32_t flags, uint8_t *out, uint64_t user_data);

/**
 * ionpu_queue_flush() - hand the submitted runs to the kernel
 * @q: the queue.
 *
 * Return: 0, or what io_uring_submit() returns.
 */
IONPU_API int ionpu_queue_flush(struct ionpu_queue *q);

/**
 * ionpu_queue_reap() - collect finished runs
 * @q: the queue.
 * @c: out: room for @max completions.
 * @max: most completions to return.
 * @wait_for: wait until this many are there (fewer when fewer are in
 *            flight); 0 only polls.
 *
 * Flushes first.  Each run completes once.
 *
 * Return: how many completions were written to @c, or a negative errno when
 * none could be and waiting failed.
 */
IONPU_API int ionpu_queue_reap(struct ionpu_queue *q, struct ionpu_completion *c, size_t max,
			       size_t wait_for);

/**
 * ionpu_queue_in_flight() - runs submitted and not yet reaped
 * @q: the queue.
 *
 * Return: the count.
 */
IONPU_API size_t ionpu_queue_in_flight(struct ionpu_queue *q);

/*
 * Several cards: a network too big for one card, split over several on the
 * same host.  The host is the router between them, as chip-to-chip links
 * would be: every time step each card runs one step, and the spikes that
 * its populations send to populations on other cards are those cards'
 * input in the next step, so a spike still reaches its targets one step
 * plus its delay after it was sent, as on one card (docs/libionpu.md,
 * "Several cards").  A split runs on cards (ionpu_multi_load()) or on
 * their host references (ionpu_multi_host()), and the two agree bit for
 * bit in ideal mode.
 */

/* A network split over cards; only the library sees inside. */
struct ionpu_split;

/**
 * ionpu_split_compile() - split a network over cards and map each part
 * @net: the network; the split keeps a copy of what it needs, so @net may
 *       change or go after the call.
 * @cards: @n_cards card descriptions, in the order the parts fill them.
 * @n_cards: how many, at least 1.
 * @flags: IONPU_COMPILE_* flags, as for ionpu_compile_flags().
 * @out: out: the split; free it with ionpu_split_free().
 *
 * Whole populations go to the cards in node order: each card takes them as
 * long as ionpu_compile_flags() still fits them on it, then the next card
 * starts; cards left over are not used.  Each part is a network of its
 * own, whose nodes keep the network's order and names: its populations,
 * the network's inputs that feed them, and for every population on another
 * card that feeds them an input node of that population's name and size,
 * which the run drives with its spikes.  A population whose spikes another
 * card takes is an output of its own part.
 *
 * Return: 0; -EINVAL for a NULL argument, no card, or a network with no
 * output population; -ENOSPC when a population does not fit on a card of
 * its own, or all the populations not on @n_cards cards (the message names
 * the population and the card); what ionpu_compile_flags() returns.
 */
IONPU_API int ionpu_split_compile(const struct ionpu_network *net,
				  const struct ionpu_card_desc *cards, size_t n_cards,
				  uint32_t flags, struct ionpu_split **out);

/**
 * ionpu_split_free() - free a split
 * @s: the split, or NULL.
 */
IONPU_API void ionpu_split_free(struct ionpu_split *s);

/**
 * ionpu_split_parts() - how many cards a split uses
 * @s: the split.
 *
 * Return: the number of parts, 1 to the number of cards it was given.
 */
IONPU_API size_t ionpu_split_parts(const struct ionpu_split *s);

/**
 * ionpu_split_network() - one part's network
 * @s: the split.
 * @part: the part, 0 to ionpu_split_parts() - 1.
 *
 * Return: the network, owned by @s; NULL for no such part.
 */
IONPU_API const struct ionpu_network *ionpu_split_network(const struct ionpu_split *s,
							  size_t part);

/**
 * ionpu_split_plan() - one part's plan, for the card it was compiled for
 * @s: the split.
 * @part: the part.
 *
 * Return: the plan (ionpu_plan_stats(), ionpu_plan_dump()), owned by @s;
 * NULL for no such part.
 */
IONPU_API const struct ionpu_plan *ionpu_split_plan(const struct ionpu_split *s, size_t part);

/**
 * ionpu_split_part_of() - which part a population went to
 * @s: the split.
 * @node: a population of the network the split was made of.
 *
 * Return: the part; -EINVAL for an input node or no such node.
 */
IONPU_API int ionpu_split_part_of(const struct ionpu_split *s, uint32_t node);

/* A split loaded onto cards, or onto host references; only the library sees inside. */
struct ionpu_multi;

/**
 * ionpu_multi_load() - load each part of a split onto its card
 * @s: the split; it may be freed once this returns.
 * @devs: the cards, at least ionpu_split_parts(@s): part k goes to
 *        @devs[k], which should be the card that @cards[k] of
 *        ionpu_split_compile() described.  One card may be given twice if
 *        it has the tiles for both parts.
 * @n_devs: how many.
 * @opts: as for ionpu_load(), for every part.
 * @out: out: the loaded split; free it with ionpu_multi_free().
 *
 * Return: 0; -EINVAL for a NULL argument or fewer cards than parts; what
 * ionpu_load() returns for a part (the message names it; the parts loaded
 * before are unloaded).
 */
IONPU_API int ionpu_multi_load(const struct ionpu_split *s, struct ionpu_dev *const *devs,
			       size_t n_devs, const struct ionpu_load_opts *opts,
			       struct ionpu_multi **out);

/**
 * ionpu_multi_host() - load each part of a split into a host reference
 * @s: the split; it may be freed once this returns.
 * @out: out: the split on the host; free it with ionpu_multi_free().
 *
 * Return: 0; -EINVAL for a NULL argument; what ionpu_host_new() returns
 * for a part.
 */
IONPU_API int ionpu_multi_host(const struct ionpu_split *s, struct ionpu_multi **out);

/**
 * ionpu_multi_free() - unload every part and free
 * @m: the loaded split, or NULL.
 */
IONPU_API void ionpu_multi_free(struct ionpu_multi *m);

/**
 * ionpu_multi_inputs() - input channels: the columns of an input raster
 * @m: the loaded split.
 *
 * Return: as ionpu_host_inputs() of the whole network.
 */
IONPU_API size_t ionpu_multi_inputs(const struct ionpu_multi *m);

/**
 * ionpu_multi_outputs() - output neurons: the columns of an output raster
 * @m: the loaded split.
 *
 * Return: as ionpu_host_outputs() of the whole network.
 */
IONPU_API size_t ionpu_multi_outputs(const struct ionpu_multi *m);

/**
 * ionpu_multi_run() - run time steps on every part, routing spikes between them
 * @m: the loaded split.
 * @in: @steps x ionpu_multi_inputs() values, laid out as for the whole
 *      network's ionpu_host_run().
 * @steps: time steps, at least 1.
 * @flags: 0 to start from rest, or %IONPU_RUN_KEEP_STATE to go on where
 *         the last run stopped, spikes between the cards included.
 * @out: out: @steps x ionpu_multi_outputs() bytes, as for the whole
 *       network's ionpu_host_run().
 *
 * Each step is one run of one step on every part (a job on each card).  A
 * part's inputs are the network's input channels that feed it and the
 * spikes of the step before of every population on another card that
 * feeds it.  The output equals the whole network's ionpu_host_run(), run a
 * step at a time, bit for bit when no population takes spikes from its own
 * card and from another one in the same step; where one does, the card adds
 * them up in another order and a potential may differ in its last bit.
 * Calls on one @m must not overlap.
 *
 * Return: 0; -EINVAL for a bad argument or an input value as
 * ionpu_host_run() refuses (the message names the step and the network's
 * channel); -ESTALE for %IONPU_RUN_KEEP_STATE after a run that failed;
 * -EOVERFLOW if the raster's size overflows; what ionpu_loaded_run() or
 * ionpu_host_run() returns for a part (the message names the step and the
 * part).
 */
IONPU_API int ionpu_multi_run(struct ionpu_multi *m, const float *in, size_t steps,
			      uint32_t flags, uint8_t *out);

/*
 * Learning on the card (docs/libionpu.md, "Learning on the card").  A
 * population compiled as learned (ionpu_compile_with()) sits alone on a
 * tile whose learning engine turns spike activity into pulses on the
 * crossbar's own devices (docs/physics.md, "Learning"): during a labelled
 * example it counts the input events of each row (pre) and the spikes of
 * each neuron (post); teaching the label's neuron then potentiates its
 * cells on the rows that were active unless it already fired post_target
 * times, and depresses the cells of those rows to every other neuron that
 * fired.  The host reference runs the same rule in the same fabric code, so
 * in ideal mode a card and the host learn the same weights bit for bit.
 */

/* A learning session; only the library sees inside (not ionpu_learn: UAPI's). */
struct ionpu_learner;

/**
 * struct ionpu_learn_rule - the learning engine's parameters
 * @size: sizeof(struct ionpu_learn_rule) as the caller was built with (as
 *        &struct ionpu_compile_opts.size).
 * @amp_pot: amplitude of a potentiating pulse, 0 to 1 (a fraction of a
 *           full programming pulse).
 * @amp_dep: amplitude of a depressing pulse, 0 to 1; 0 never depresses.
 * @pre_ref: input events of a row that give a full-strength pulse (> 0);
 *           fewer scale it down.
 * @post_target: spikes of the taught neuron beyond which it is not
 *               potentiated further.
 * @max_pulses: most pulses one example may apply, at least 1.
 */
struct ionpu_learn_rule {
	size_t size;
	double amp_pot;
	double amp_dep;
	double pre_ref;
	uint32_t post_target;
	uint32_t max_pulses;
};

/**
 * struct ionpu_learn_stats - what a learning session did
 * @examples: labelled examples presented.
 * @pulses: learning pulses the engine applied since the session started.
 * @energy_fj: their modeled energy, fJ.
 *
 * On a card the pulses and energy are read from the card's counters, which
 * count every learning tile of the card.
 */
struct ionpu_learn_stats {
	uint64_t examples;
	uint64_t pulses;
	uint64_t energy_fj;
};

/**
 * ionpu_learn_start() - start learning a population of a loaded network
 * @n: the loaded network, compiled with @node learned.
 * @node: the learned population's name.
 * @rule: the rule's parameters.
 * @out: out: the session; free it with ionpu_learn_free().
 *
 * Turns the learning engine of @node's tile on.  Only one session per
 * population at a time.
 *
 * Return: 0; -EINVAL for a NULL argument, a node the plan did not learn,
 * a session already on it, or a parameter out of range or NaN (the message
 * names it and its value); -EOPNOTSUPP for a card without a learning engine
 * (older than version 1.4); -ENOMEM; what the driver returns.
 */
IONPU_API int ionpu_learn_start(struct ionpu_loaded *n, const char *node,
				const struct ionpu_learn_rule *rule, struct ionpu_learner **out);

/**
 * ionpu_host_learn_start() - start learning a population on the host reference
 * @h: the host reference, of a plan with @node learned.
 * @node: the learned population's name.
 * @rule: the rule's parameters.
 * @out: out: the session; free it with ionpu_learn_free().
 *
 * Turns the learning engine of @node's tile on, in the host reference's own
 * fabric (ideal mode).  Only one session per population at a time.
 *
 * Return: 0; -EINVAL for a NULL argument, a node the plan did not learn,
 * a session already on it, or a parameter out of range or NaN (the message
 * names it and its value); -ENOMEM.
 */
IONPU_API int ionpu_host_learn_start(struct ionpu_host *h, const char *node,
				     const struct ionpu_learn_rule *rule,
				     struct ionpu_learner **out);

/**
 * ionpu_learn_example() - present one labelled example and teach its label
 * @l: the session.
 * @in: @steps x inputs values, as for ionpu_host_run().
 * @steps: time steps, at least 1.
 * @label: the neuron of the learned population that should fire: 0 to its
 *         size - 1.
 *
 * Runs @in from rest, then teaches neuron @label: the engine pulses the
 * cells as the rule says.
 *
 * Return: 0; -EINVAL for a NULL argument, no steps, a label out of range
 * or a frozen session (the message names the label or the population), or
 * what the run returns; what the driver returns.
 */
IONPU_API int ionpu_learn_example(struct ionpu_learner *l, const float *in, size_t steps,
				  uint32_t label);

/**
 * ionpu_learn_freeze() - stop learning, keep what was learned
 * @l: the session.
 *
 * Turns the engine off: runs no longer count traces and the weights stay
 * as the devices hold them.  Later examples are refused; stats, weights
 * and ionpu_learn_save_nir() still work.  Freezing twice is harmless.
 *
 * Return: 0; what the driver returns.
 */
IONPU_API int ionpu_learn_freeze(struct ionpu_learner *l);

/**
 * ionpu_learn_stats() - what the session did
 * @l: the session.
 * @out: out: examples, learning pulses and their energy since it started.
 *
 * Return: 0; what the driver returns reading the counters.
 */
IONPU_API int ionpu_learn_stats(struct ionpu_learner *l, struct ionpu_learn_stats *out);

/**
 * ionpu_learn_weights() - read the learned weights back from the devices
 * @l: the session.
 * @out: out: neurons x source neurons doubles, row-major (NIR's Linear
 *       layout): (G+ - G-) as the read circuit gives it, times the tile's
 *       weight per uS.
 *
 * Return: 0; -EINVAL for a NULL argument; what the driver returns.
 */
IONPU_API int ionpu_learn_weights(struct ionpu_learner *l, double *out);

/**
 * ionpu_learn_save_nir() - write the network with what the card learned
 * @l: the session.
 * @net: the network the plan was compiled from.
 * @path: the NIR file to create or truncate.
 *
 * @net with the learned projection's weights replaced by
 * ionpu_learn_weights(), through ionpu_nir_save(), so other NIR tools can
 * inspect or run what the card learned.
 *
 * Return: 0; -EINVAL for a NULL argument or a network that is not the
 * plan's; what ionpu_learn_weights() and ionpu_nir_save() return.
 */
IONPU_API int ionpu_learn_save_nir(struct ionpu_learner *l, const struct ionpu_network *net,
				   const char *path);

/**
 * ionpu_learn_free() - end a session
 * @l: the session, or NULL.
 *
 * Freezes it first if it was not; the weights stay on the devices.  Free it
 * before the loaded network or host reference it learns on.
 */
IONPU_API void ionpu_learn_free(struct ionpu_learner *l);

/*
 * Rasters in files: NumPy .npy (format 1.0 and 2.0, little-endian, C order,
 * two dimensions: time steps x channels) and CSV (one line per time step,
 * numbers separated by commas).
 */

/**
 * enum ionpu_npy_type - element type of an .npy file ionpu_npy_write() makes
 * @IONPU_NPY_F32: float32, "<f4".
 * @IONPU_NPY_U8: uint8, "|u1".
 */
enum ionpu_npy_type {
	IONPU_NPY_F32 = 1,
	IONPU_NPY_U8,
};

/**
 * ionpu_npy_read() - read a 2-D .npy array as float32
 * @path: the file.
 * @data: out: rows x cols floats, row-major; free() them.
 * @rows: out: first dimension.
 * @cols: out: second dimension.
 *
 * Reads float32, float64, int64, int32, uint8 and bool arrays, converting
 * each value to the nearest float.  A 1-D array is read as one column.
 *
 * Return: 0; -EPROTO for a malformed file (bad magic, bad header, truncated
 * or trailing data, a value that is not a finite float); -EOPNOTSUPP for a valid
 * file this reader does not take (version, element type, byte order,
 * Fortran order, not two dimensions, no elements); -EOVERFLOW if the sizes
 * overflow; -ENOMEM; an open(2) or read error.  The message says which.
 */
IONPU_API int ionpu_npy_read(const char *path, float **data, size_t *rows, size_t *cols);

/**
 * ionpu_npy_read_batch() - read a batch of rasters from .npy
 * @path: the file: a 3-D array (samples x steps x channels), or a 2-D one,
 *        which is one sample.
 * @data: out: samples x steps x cols floats, row-major; free() them.
 * @samples: out: first dimension (1 for a 2-D array).
 * @steps: out: time steps of each sample.
 * @cols: out: channels.
 * @ndim: out, may be NULL: the file's dimensions, 2 or 3, so that what is
 *        written back can have the same shape.
 *
 * Return: as ionpu_npy_read().
 */
IONPU_API int ionpu_npy_read_batch(const char *path, float **data, size_t *samples,
				   size_t *steps, size_t *cols, int *ndim);

/**
 * ionpu_npy_write() - write a 2-D array as .npy, format 1.0
 * @path: the file to create or truncate.
 * @type: the element type of @data.
 * @data: rows x cols elements, row-major.
 * @rows: first dimension.
 * @cols: second dimension.
 *
 * Return: 0; -EINVAL for a bad argument; -EOVERFLOW if the sizes overflow;
 * -EIO or another negative errno if the file cannot be written.
 */
IONPU_API int ionpu_npy_write(const char *path, enum ionpu_npy_type type, const void *data,
			      size_t rows, size_t cols);

/**
 * ionpu_npy_write_batch() - write a batch of rasters as a 3-D .npy array
 * @path: the file to create or truncate.
 * @type: the element type of @data.
 * @data: samples x steps x cols elements, row-major.
 * @samples: first dimension.
 * @steps: second dimension.
 * @cols: third dimension.
 *
 * Return: as ionpu_npy_write().
 */
IONPU_API int ionpu_npy_write_batch(const char *path, enum ionpu_npy_type type,
				    const void *data, size_t samples, size_t steps, size_t cols);

/**
 * ionpu_csv_read() - read a raster from CSV
 * @path: the file: one line per row, the same number of comma-separated
 *        numbers on each; blanks around numbers, CRLF line ends and empty
 *        lines are fine.
 * @data: out: rows x cols floats, row-major; free() them.
 * @rows: out: lines.
 * @cols: out: numbers per line.
 *
 * Return: 0; -EPROTO for a field that is not a finite float, a line with
 * another count of fields, no numbers at all or a NUL byte; -ENOMEM; an open(2)
 * or read error.  The message gives the line and field.
 */
IONPU_API int ionpu_csv_read(const char *path, float **data, size_t *rows, size_t *cols);

/*
 * Calibration (docs/calibration.md).  A card keeps a 4096-byte record that
 * is the host's; libionpu puts there the stuck devices (crossbar devices
 * that SET and RESET pulses do not move) an administrator's scan found, so
 * that weight programming can route around them.
 */

/* Bits of &struct ionpu_calib_info.flags. */
#define IONPU_CALIB_OVERFLOW	(1u << 0)	/* a tile's list was cut for room */

/* Flags of ionpu_calibrate(). */
#define IONPU_CALIBRATE_DRY_RUN	(1u << 0)	/* scan, but leave the record alone */

/**
 * struct ionpu_calib_info - what a calibration record says
 * @calibrated: false for a blank record (never calibrated, or cleared); the
 *              fields below are zero then.
 * @version: the record's format version.
 * @flags: %IONPU_CALIB_OVERFLOW: the scans found more stuck devices than the
 *         record holds; for the tiles in @tiles_truncated it lists the most
 *         harmful ones (highest conductance first).
 * @serial: the card the record was made for, NUL terminated.
 * @seed: that card's seed.
 * @created: when the record was written, seconds since the epoch (UTC).
 * @pulses: SET pulses, then RESET pulses, the scan gave each device.
 * @threshold_us: a device that moved less than this between the two is
 *                stuck, µS.
 * @tiles_scanned: bit N: tile N was scanned.
 * @tiles_truncated: bit N: tile N's list was cut for room.
 * @stuck_found: stuck devices the scans found on those tiles.
 * @stuck_listed: stuck devices the record lists.
 */
struct ionpu_calib_info {
	bool calibrated;
	uint32_t version;
	uint32_t flags;
	char serial[IONPU_SERIAL_MAX + 1];
	uint64_t seed;
	int64_t created;
	uint32_t pulses;
	float threshold_us;
	uint64_t tiles_scanned;
	uint64_t tiles_truncated;
	uint32_t stuck_found;
	uint32_t stuck_listed;
};

/**
 * struct ionpu_stuck_device - a device that pulses do not move
 * @tile: its tile.
 * @row: crossbar row.
 * @column: crossbar column (neuron).
 * @device: 0 the G+ device of the cell, 1 the G- one.
 * @g_us: the conductance it is stuck at, µS (the record keeps it to 1.5 %).
 */
struct ionpu_stuck_device {
	uint32_t tile;
	uint16_t row;
	uint16_t column;
	uint8_t device;
	float g_us;
};

/**
 * struct ionpu_calib_report - what ionpu_calibrate() did
 * @record: the record it wrote, or would have written with
 *          %IONPU_CALIBRATE_DRY_RUN.  Tiles it did not scan keep what an
 *          earlier record of this card said about them.
 * @tiles: the tiles it scanned.
 * @stuck: stuck devices it found on them.
 * @not_restored: devices whose conductance it could not put back.
 */
struct ionpu_calib_report {
	struct ionpu_calib_info record;
	uint64_t tiles;
	uint32_t stuck;
	uint32_t not_restored;
};

/**
 * ionpu_calibrate() - find the stuck devices of tiles and record them
 * @dev: the card.
 * @tiles: bit N: scan tile N; 0 scans every tile.
 * @flags: 0 or %IONPU_CALIBRATE_DRY_RUN.
 * @report: out: what was found and written.
 * @stuck: out, may be NULL: every stuck device found, by tile, row, column
 *         and device; free() it.
 * @count: out: their number (with @stuck).
 *
 * Needs CAP_SYS_ADMIN (raw pulses, the record's write) and the tiles free:
 * it leases them for the scan and releases them after.  Each tile is
 * scanned in physical mode: every device gets SET pulses, then RESET
 * pulses, and one whose noise-free conductance did not move is stuck.  This
 * destroys the weights on the tiles; they are read before and programmed
 * back after in ideal mode, so each device comes back on the level nearest
 * its old conductance (within 0.2 µS) and the tiles are left off.
 *
 * Return: 0; -EPERM without CAP_SYS_ADMIN (nothing touched); -EBUSY when a
 * tile is leased by any open file, this one included (nothing touched);
 * -EINVAL for a tile the card does not have; -ENOMEM; another ioctl error
 * (the message says at which step; the tiles are restored as far as
 * possible).
 */
IONPU_API int ionpu_calibrate(struct ionpu_dev *dev, uint64_t tiles, uint32_t flags,
			      struct ionpu_calib_report *report,
			      struct ionpu_stuck_device **stuck, size_t *count);

/**
 * ionpu_calib_read() - read and check a card's calibration record
 * @dev: the card; no privilege needed.
 * @info: out: the record's header.
 * @stuck: out, may be NULL: the stuck devices it lists, by tile, row,
 *         column and device; free() it.
 * @count: out: their number (with @stuck).
 *
 * Return: 0, also for a blank record (@info->calibrated false); -EPROTO
 * for a damaged record, one of an unknown version or one made for another
 * card (serial or seed), with the reason in the message; -ENOMEM; the
 * ioctl's error.
 */
IONPU_API int ionpu_calib_read(struct ionpu_dev *dev, struct ionpu_calib_info *info,
			       struct ionpu_stuck_device **stuck, size_t *count);

/**
 * ionpu_calib_clear() - blank a card's calibration record
 * @dev: the card.
 *
 * Return: 0; -EPERM without CAP_SYS_ADMIN; the ioctl's error.
 */
IONPU_API int ionpu_calib_clear(struct ionpu_dev *dev);

#ifdef __cplusplus
}
#endif

#endif /* IONPU_IONPU_H */
