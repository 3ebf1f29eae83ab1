"""The PCA9685 16-channel 12-bit PWM controller over I2C (NXP datasheet rev. 4), as Donkey Car builds
drive their steering servo and ESC with it.

Registers used: ``MODE1`` (0x00; RESTART 0x80, AI auto-increment 0x20, SLEEP 0x10, ALLCALL 0x01),
``MODE2`` (0x01; OUTDRV 0x04, totem-pole outputs), ``LEDn_ON_L..LEDn_OFF_H`` (0x06 + 4n, four bytes: the
12-bit tick where the pulse rises and where it falls), ``PRE_SCALE`` (0xFE, written only while
asleep: ``round(25 MHz / (4096 x f)) - 1``). A pulse of ``t`` ticks lasts ``t / (4096 f)`` seconds.

The bus is anything with smbus2's three calls (``write_byte_data``, ``read_byte_data``,
``write_i2c_block_data``): :func:`open_bus` opens a real one; :class:`FakeI2CBus` (shipped for users
and tests without hardware) keeps the chip's registers and a log of every write.
"""

from __future__ import annotations

import time

MODE1, MODE2, LED0_ON_L, PRE_SCALE = 0x00, 0x01, 0x06, 0xFE
RESTART, AUTO_INCREMENT, SLEEP, ALLCALL = 0x80, 0x20, 0x10, 0x01
OUTDRV = 0x04
OSCILLATOR_HZ = 25_000_000
DEFAULT_ADDRESS = 0x40


class I2CError(OSError):
    """The I2C bus or the chip cannot be reached."""


def prescale_for(frequency_hz: float) -> int:
    """``PRE_SCALE`` for a PWM frequency (datasheet eq. 1): 50 Hz -> 121, 60 Hz -> 101."""
    value = round(OSCILLATOR_HZ / (4096 * frequency_hz)) - 1
    if not 3 <= value <= 255:
        raise ValueError(f"PWM frequency {frequency_hz} Hz is outside the PCA9685's 24-1526 Hz")
    return value


def open_bus(number: int):
    """smbus2's ``SMBus(number)`` (``/dev/i2c-<number>``), or an :class:`I2CError` saying what to do."""
    try:
        from smbus2 import SMBus
    except ImportError:
        raise I2CError("the PCA9685 driver needs smbus2: pip install 'sensorimotor[car]'") from None
    try:
        return SMBus(number)
    except (FileNotFoundError, PermissionError, OSError) as exc:
        raise I2CError(f"I2C bus /dev/i2c-{number} cannot be opened ({exc.strerror or exc}): enable I2C "
                       "(raspi-config on a Raspberry Pi), check the bus number, or run as a member of the i2c group")


class PCA9685:
    """One chip at ``address`` on ``bus``, its PWM frequency set at construction."""

    def __init__(self, bus, address: int = DEFAULT_ADDRESS, frequency_hz: float = 60.0):
        self.bus, self.address, self.frequency_hz = bus, address, float(frequency_hz)
        prescale = prescale_for(frequency_hz)
        try:
            self.bus.write_byte_data(address, MODE2, OUTDRV)
            self.bus.write_byte_data(address, MODE1, ALLCALL)  # awake, all outputs as they are
            time.sleep(0.0005)  # the oscillator needs 500 us to start
            awake = self.bus.read_byte_data(address, MODE1) & ~SLEEP & ~RESTART
            self.bus.write_byte_data(address, MODE1, awake | SLEEP)  # the prescaler is written asleep
            self.bus.write_byte_data(address, PRE_SCALE, prescale)
            self.bus.write_byte_data(address, MODE1, awake)
            time.sleep(0.0005)
            self.bus.write_byte_data(address, MODE1, awake | RESTART | AUTO_INCREMENT)
        except OSError as exc:
            raise I2CError(f"no PCA9685 answers at 0x{address:02x} ({exc}): check the wiring, the address "
                           "jumpers and `i2cdetect -y <bus>`") from None

    def ticks(self, pulse_us: float) -> int:
        """Ticks of a pulse ``pulse_us`` microseconds long at this frequency."""
        return int(round(pulse_us * 1e-6 * self.frequency_hz * 4096))

    def set_pulse(self, channel: int, ticks: int) -> None:
        """Channel ``channel`` high from tick 0 to ``ticks`` (0..4095) every period."""
        if not 0 <= channel <= 15:
            raise ValueError(f"PCA9685 channels are 0..15, got {channel}")
        if not 0 <= ticks <= 4095:
            raise ValueError(f"a pulse is 0..4095 ticks, got {ticks}")
        self.bus.write_i2c_block_data(self.address, LED0_ON_L + 4 * channel, [0, 0, ticks & 0xFF, ticks >> 8])


class FakeI2CBus:
    """A PCA9685 at the other end of a pretend bus: registers as the chip keeps them (with auto-
    increment for block writes), and ``writes``, every ``(address, register, value)`` in order."""

    def __init__(self, address: int = DEFAULT_ADDRESS, fail: bool = False):
        self.address, self.fail = address, fail
        self.registers = {MODE1: SLEEP | ALLCALL}  # the chip's power-on MODE1
        self.writes: list[tuple[int, int, int]] = []

    def _check(self, address: int) -> None:
        if self.fail or address != self.address:
            raise OSError(121, "Remote I/O error")  # what Linux answers when no chip acknowledges

    def write_byte_data(self, address: int, register: int, value: int) -> None:
        self._check(address)
        self.registers[register] = value & 0xFF
        self.writes.append((address, register, value & 0xFF))

    def read_byte_data(self, address: int, register: int) -> int:
        self._check(address)
        return self.registers.get(register, 0)

    def write_i2c_block_data(self, address: int, register: int, data: list[int]) -> None:
        for offset, value in enumerate(data):
            self.write_byte_data(address, register + offset, value)

    def pulse(self, channel: int) -> int:
        """The channel's current pulse length in ticks (``OFF`` minus ``ON``)."""
        base = LED0_ON_L + 4 * channel
        on = self.registers.get(base, 0) | self.registers.get(base + 1, 0) << 8
        off = self.registers.get(base + 2, 0) | self.registers.get(base + 3, 0) << 8
        return off - on

    def close(self) -> None:
        pass
