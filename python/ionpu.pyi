# SPDX-License-Identifier: LGPL-2.1-or-later
"""Type hints for the ionpu extension module (python/*.c)."""
import os
from types import TracebackType
from typing import Callable, Optional, Sequence, TypedDict, Union

import numpy as np
import numpy.typing as npt

__version__: str

class Error(OSError):
    """What libionpu refused or failed at; errno is the library's."""

class NoCardError(Error): ...
class BusyError(Error): ...
class GraphError(Error, ValueError): ...
class DeviceError(Error): ...
class InvalidArgumentError(Error, ValueError): ...

class CardEntry(TypedDict):
    index: int
    pci_address: str
    node: str
    driver_bound: bool
    driver: str
    serial: str
    tiles: int
    hw_version: tuple[int, int]
    seed: int

class CardInfo(TypedDict):
    api_version: int
    hw_version: tuple[int, int]
    caps: int
    tiles: int
    tile_rows: int
    tile_neurons: int
    seed: int
    serial: str

class Activity(TypedDict):
    timesteps: int
    spikes_in: int
    spikes_out: int
    synaptic_events: int
    program_pulses: int
    busy_ns: int
    energy_fj: int
    energy_j: float

class NodeEntry(TypedDict):
    name: str
    kind: str
    model: Optional[str]
    size: int
    output: bool

class PlanStats(TypedDict):
    tiles: int
    rows: int
    neurons: int
    cells: int
    chain_groups: int
    routes: int
    outputs: int

class ProgramReport(TypedDict):
    cells: int
    devices: int
    pulses: int
    mean_error_us: float
    max_error_us: float
    mean_weight_error: float
    max_weight_error: float
    stuck: int
    remapped: int
    failed: int

Raster = npt.ArrayLike
Spikes = npt.NDArray[np.uint8]

def cards(sysfs_root: Optional[str] = None) -> list[CardEntry]: ...
def open(card: Union[None, int, str] = None) -> Card: ...
def load_nir(source: Union[str, bytes, os.PathLike[str]]) -> Network: ...
def compile(
    network: Network,
    *,
    tiles: Optional[int] = None,
    card: Optional[Card] = None,
    dt: float = 0.001,
    allow_unstable: bool = False,
    learn: Optional[Sequence[str]] = None,
    learn_from_zero: bool = False,
) -> Plan: ...

class Network:
    @property
    def nodes(self) -> list[NodeEntry]: ...
    @property
    def inputs(self) -> int: ...
    @property
    def outputs(self) -> int: ...
    def save(self, path: Union[str, os.PathLike[str]]) -> None: ...

class Plan:
    @property
    def stats(self) -> PlanStats: ...
    @property
    def network(self) -> Network: ...
    def dump(self) -> str: ...

class _Runner:
    """What Host and Loaded share (not a class of the module)."""
    @property
    def inputs(self) -> int: ...
    @property
    def outputs(self) -> int: ...
    def run(self, raster: Raster, *, keep_state: bool = False) -> Spikes: ...
    def activity(self) -> Activity: ...
    def learn(
        self,
        population: str,
        *,
        amp_pot: float = 0.1,
        amp_dep: float = 0.05,
        pre_ref: float = 8.0,
        post_target: int = 8,
        max_pulses: int = 4096,
    ) -> Learner: ...
    def close(self) -> None: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None: ...

class LearnStats(TypedDict):
    examples: int
    pulses: int
    energy_fj: int
    energy_j: float

class Learner:
    def example(self, raster: Raster, label: int) -> None: ...
    def freeze(self) -> None: ...
    def stats(self) -> LearnStats: ...
    def weights(self) -> npt.NDArray[np.float64]: ...
    def save_nir(self, path: Union[str, os.PathLike[str]]) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Learner: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None: ...

class Host(_Runner):
    def __init__(self, plan: Plan) -> None: ...
    def __enter__(self) -> Host: ...

class Loaded(_Runner):
    def report(self) -> ProgramReport: ...
    def __enter__(self) -> Loaded: ...

class Card:
    @property
    def closed(self) -> bool: ...
    def info(self) -> CardInfo: ...
    def activity(self) -> Activity: ...
    def load(
        self,
        plan: Plan,
        *,
        physical: bool = False,
        pulse_budget: int = 0,
        calibration: bool = True,
        progress: Optional[Callable[[int, int], object]] = None,
    ) -> Loaded: ...
    def close(self) -> None: ...
    def __enter__(self) -> Card: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None: ...
