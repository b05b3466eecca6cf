"""The demo experiment: LUTE-shaped results written on the spot, with Tasks that go on
running, so the dashboard can be seen live on a machine without a beamline."""
