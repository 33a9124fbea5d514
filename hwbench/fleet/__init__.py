"""Benchmark machines you rent (or could rent) from one place.

``hwbench fleet bench`` runs ``hwbench detect`` and ``hwbench bench`` on SSH hosts through asyncssh
(which honours ``~/.ssh/config``, the agent and ``known_hosts``), brings the records home into one
folder per host and hands them to :mod:`hwbench.compare`. Never a scheduler or an agent of our own:
SSH does the remote execution, the remote hwbench does the measuring.

Modules: ``inventory`` (who: hosts from the command line and a YAML inventory), ``store`` (where:
the results folder, atomic per-host publishing, resume), ``ssh`` (how we connect: host-key policy,
one-line connection errors), ``remote`` (what runs on one host), ``run`` (many hosts in parallel,
timeouts, Ctrl-C, the comparison at the end).
"""
