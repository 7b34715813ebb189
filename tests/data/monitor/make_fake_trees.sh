#!/usr/bin/env bash
# Writes the hand-made /proc + /sys trees the monitor tests read (fake_board,
# fake_jetson). The files are committed; rerun this only to change them.
# host/ holds files captured from the development machine (Debian 12 VM, 2 cores).
set -euo pipefail
cd "$(dirname "$0")"
put() { mkdir -p "$(dirname "$1")"; printf '%s\n' "$2" > "$1"; }

rm -rf fake_board fake_jetson
B=fake_board
# ---- /proc: a 4-core board ----
put $B/proc/stat "cpu  4000 0 1000 14000 400 0 100 0 0 0
cpu0 1000 0 250 3500 100 0 25 0 0 0
cpu1 1000 0 250 3500 100 0 25 0 0 0
cpu2 1000 0 250 3500 100 0 25 0 0 0
cpu3 1000 0 250 3500 100 0 25 0 0 0
intr 12345 0 0
ctxt 67890
btime 1700000000
processes 1234
procs_running 2
procs_blocked 0"
put $B/proc/self/stat "4242 (zenith bench) R 1 4242 4242 0 -1 4194304 100 0 0 0 300 100 0 0 20 0 3 0 1000 100000000 2000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0"
put $B/proc/self/status "Name:	zenith
State:	R (running)
VmPeak:	  300000 kB
VmSize:	  280000 kB
VmHWM:	  150000 kB
VmRSS:	  120000 kB
Threads:	3"
put $B/proc/meminfo "MemTotal:        3884000 kB
MemFree:         1000000 kB
MemAvailable:    2884000 kB
Buffers:           10000 kB"
put $B/proc/cpuinfo "processor	: 0
BogoMIPS	: 108.00"
put $B/proc/diskstats "   7       0 loop0 10 0 80 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 179       0 mmcblk0 1000 0 20000 500 200 0 8000 300 0 600 800 0 0 0 0 0 0
 179       1 mmcblk0p1 100 0 2000 50 20 0 800 30 0 60 80 0 0 0 0 0 0
 179       2 mmcblk0p2 900 0 18000 450 180 0 7200 270 0 540 720 0 0 0 0 0 0
   8       0 sda 500 0 40000 100 100 0 4000 50 0 150 150 0 0 0 0 0 0
   8       1 sda1 500 0 40000 100 100 0 4000 50 0 150 150 0 0 0 0 0 0
 254       0 zram0 50 0 400 0 50 0 400 0 0 0 0 0 0 0 0 0 0"
mkdir -p $B/sys/block
ln -s ../devices/platform/emmc2bus/fe340000.mmc/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0 $B/sys/block/mmcblk0
ln -s ../devices/platform/scb/fd500000.pcie/pci0000:00/0000:00:00.0/0000:01:00.0/usb2/2-1/2-1:1.0/host0/target0:0:0/0:0:0:0/block/sda $B/sys/block/sda
ln -s ../devices/virtual/block/loop0 $B/sys/block/loop0
ln -s ../devices/virtual/block/zram0 $B/sys/block/zram0
# network: usb0 on USB (counted as USB traffic), eth0 not
U=$B/sys/devices/platform/soc/usb1/1-1/1-1:1.0/net/usb0
put $U/statistics/rx_bytes 1000
put $U/statistics/tx_bytes 2000
E=$B/sys/devices/platform/soc/fd580000.ethernet/net/eth0
put $E/statistics/rx_bytes 5000000
put $E/statistics/tx_bytes 6000000
mkdir -p $B/sys/class/net
ln -s ../../devices/platform/soc/usb1/1-1/1-1:1.0/net/usb0 $B/sys/class/net/usb0
ln -s ../../devices/platform/soc/fd580000.ethernet/net/eth0 $B/sys/class/net/eth0
mkdir -p $B/sys/bus/usb/devices/usb1 $B/sys/bus/usb/devices/1-1 "$B/sys/bus/usb/devices/1-1:1.0"
# ---- powercap/RAPL: two packages and one subzone ----
P=$B/sys/class/powercap
put $P/intel-rapl:0/name package-0
put $P/intel-rapl:0/energy_uj 1000000
put $P/intel-rapl:0/max_energy_range_uj 262143328850
put $P/intel-rapl:0:0/name core
put $P/intel-rapl:0:0/energy_uj 400000
put $P/intel-rapl:0:0/max_energy_range_uj 262143328850
put $P/intel-rapl:1/name package-1
put $P/intel-rapl:1/energy_uj 2000000
put $P/intel-rapl:1/max_energy_range_uj 262143328850
# ---- hwmon: an INA219 (power1 in uW, curr1 in mA, in0 shunt / in1 bus in mV) and a CPU temperature ----
H=$B/sys/class/hwmon
put $H/hwmon0/name ina219
put $H/hwmon0/in0_input 12
put $H/hwmon0/in1_input 5080
put $H/hwmon0/curr1_input 600
put $H/hwmon0/power1_input 3048000
put $H/hwmon0/shunt_resistor 100000
put $H/hwmon1/name cpu_thermal
put $H/hwmon1/temp1_input 45500
put $H/hwmon1/temp1_crit 110000
# ---- thermal zones and cpufreq ----
put $B/sys/class/thermal/thermal_zone0/type cpu-thermal
put $B/sys/class/thermal/thermal_zone0/temp 45500
put $B/sys/class/thermal/thermal_zone1/type gpu-thermal
put $B/sys/class/thermal/thermal_zone1/temp 44000
for c in 0 1 2 3; do
  f=(1500000 1500000 600000 1800000)
  put $B/sys/devices/system/cpu/cpu$c/cpufreq/scaling_cur_freq ${f[$c]}
done

# ---- a Jetson-like board: only an INA3221 (V and I per rail, no power inputs) ----
J=fake_jetson
mkdir -p $J && cp -r $B/proc $J/
H=$J/sys/class/hwmon
put $H/hwmon0/name ina3221
put $H/hwmon0/in1_label VDD_IN
put $H/hwmon0/in1_input 5000
put $H/hwmon0/curr1_label VDD_IN
put $H/hwmon0/curr1_input 1000
put $H/hwmon0/in2_label VDD_CPU_GPU_CV
put $H/hwmon0/in2_input 1000
put $H/hwmon0/curr2_label VDD_CPU_GPU_CV
put $H/hwmon0/curr2_input 500
put $H/hwmon0/in4_input 12
