"""A simulated day in the Sangsalmi village: parking sessions, magnetometer readings with
latency, heartbeats and errors, and AI-camera incidents with generated stills."""

from edge_oracle.simulator.day import SimConfig, SimulatedDay, plan_day, simulate_day
from edge_oracle.simulator.layout import Layout, village_layout

__all__ = ["Layout", "SimConfig", "SimulatedDay", "plan_day", "simulate_day", "village_layout"]
