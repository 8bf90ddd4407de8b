"""Toolchain bootstrap helpers run by `make setup`."""
