# fixmux-bench plots: gnuplot -e "dir='/tmp/fixmux-bench'" bench/harness/plot.gp
# Reads DIR/{fixmux,direct}.csv (percentile distributions) and DIR/*-timeline.csv and writes
# DIR/latency-by-percentile.png and DIR/latency-over-time.png (small, for docs/); with market
# data (--scenario md or mix: DIR/fixmux-md.csv) also DIR/md-latency-by-percentile.png and
# DIR/md-latency-over-time.png. The orders plots need an orders run.
if (!exists("dir")) dir = "/tmp/fixmux-bench"
if (!exists("title")) title = ""
# The QuickFIX relay's phase is optional (run.sh --qf-relay).
qf = system("test -f '".dir."/qfrelay.csv' && echo 1 || echo 0") + 0
md = system("test -f '".dir."/fixmux-md.csv' && echo 1 || echo 0") + 0
orders = system("test -f '".dir."/fixmux.csv' && echo 1 || echo 0") + 0
set datafile separator ","
set terminal pngcairo size 720,420 font ",9" noenhanced
set key top left
set grid

if (orders) {
# Latency by percentile, as HdrHistogram plots it: x is 1/(1-p) on a log axis, so 90 %, 99 %,
# 99.9 % ... sit at equal distances and the tail gets as much room as the body.
set output dir."/latency-by-percentile.png"
set title "NewOrderSingle -> ExecutionReport, by percentile ".title
set logscale x
set xrange [1:100000]
set xtics ("0%%" 1, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000)
set xlabel "percentile"
set ylabel "latency (us, from the intended send time)"
set logscale y
plot dir."/fixmux.csv" every ::1 using ($2 < 1 ? 1/(1-$2) : 1/0):1 with steps lw 2 lc rgb "#c0392b" title "through fixmux", \
     dir."/direct.csv" every ::1 using ($2 < 1 ? 1/(1-$2) : 1/0):1 with steps lw 2 lc rgb "#2471a3" title "straight to the venue simulator", \
     (qf ? dir."/qfrelay.csv" : dir."/direct.csv") every ::1 using ($2 < 1 && qf ? 1/(1-$2) : 1/0):1 with steps lw 2 lc rgb "#27ae60" title (qf ? "through the QuickFIX relay" : "")

# Latency over time: per-second p50 / p99 / max of the run through fixmux and of the baseline.
set output dir."/latency-over-time.png"
set title "Latency over time (per second) ".title
unset logscale x
set xrange [*:*]
set xtics autofreq
set xlabel "second of the phase"
plot dir."/fixmux-timeline.csv" every ::1 using 1:3 with lines lw 2 lc rgb "#c0392b" title "fixmux p50", \
     dir."/fixmux-timeline.csv" every ::1 using 1:5 with lines lw 2 lc rgb "#e67e22" title "fixmux p99", \
     dir."/fixmux-timeline.csv" every ::1 using 1:6 with points pt 7 ps 0.6 lc rgb "#7b241c" title "fixmux max", \
     dir."/direct-timeline.csv" every ::1 using 1:3 with lines lw 2 dt 2 lc rgb "#2471a3" title "direct p50", \
     dir."/direct-timeline.csv" every ::1 using 1:5 with lines lw 2 dt 2 lc rgb "#5dade2" title "direct p99", \
     (qf ? dir."/qfrelay-timeline.csv" : dir."/direct-timeline.csv") every ::1 using 1:(qf ? $3 : 1/0) with lines lw 2 dt 3 lc rgb "#27ae60" title (qf ? "QuickFIX relay p50" : ""), \
     (qf ? dir."/qfrelay-timeline.csv" : dir."/direct-timeline.csv") every ::1 using 1:(qf ? $5 : 1/0) with lines lw 2 dt 3 lc rgb "#82e0aa" title (qf ? "QuickFIX relay p99" : "")
}

# Market data: the venue's stamp (intended send time) to the arrival at the user.
if (md) {
set output dir."/md-latency-by-percentile.png"
set title "Market data: venue stamp -> user, by percentile ".title
set logscale x
set xrange [1:100000]
set xtics ("0%%" 1, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000)
set xlabel "percentile"
set ylabel "latency (us, from the venue's intended send time)"
set logscale y
plot dir."/fixmux-md.csv" every ::1 using ($2 < 1 ? 1/(1-$2) : 1/0):1 with steps lw 2 lc rgb "#c0392b" title "through fixmux", \
     dir."/direct-md.csv" every ::1 using ($2 < 1 ? 1/(1-$2) : 1/0):1 with steps lw 2 lc rgb "#2471a3" title "straight from the venue simulator"
set output dir."/md-latency-over-time.png"
set title "Market data latency over time (per second) ".title
unset logscale x
set xrange [*:*]
set xtics autofreq
set xlabel "second of the phase"
plot dir."/fixmux-md-timeline.csv" every ::1 using 1:3 with lines lw 2 lc rgb "#c0392b" title "fixmux p50", \
     dir."/fixmux-md-timeline.csv" every ::1 using 1:5 with lines lw 2 lc rgb "#e67e22" title "fixmux p99", \
     dir."/direct-md-timeline.csv" every ::1 using 1:3 with lines lw 2 dt 2 lc rgb "#2471a3" title "direct p50", \
     dir."/direct-md-timeline.csv" every ::1 using 1:5 with lines lw 2 dt 2 lc rgb "#5dade2" title "direct p99"
}
