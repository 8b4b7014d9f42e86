"""The mesos-kernel wheel's launcher: `python -m mesos_kernel ARGS` runs the `mesos-kernel`
binary this package installed, with ARGS. The kernelspec the wheel installs starts the
kernel this way, because front ends replace a leading `python` in a kernelspec's argv with
their own interpreter: the binary is then found through the environment it was installed
into, whether or not that environment is activated (on PATH)."""
