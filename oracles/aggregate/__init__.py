"""Turning verified sensor events into occupancy observations: debounce, reconcile, batch."""
