# Latency over time from the clients' latency logs: gnuplot scripts/plotting/cartesian.gp
# -> logs/plot_cartesian.pdf (x: seconds since the first submit, y: latency in ms).
set terminal pdfcairo size 6in,4in
set output 'logs/plot_cartesian.pdf'
set title 'Latency over time'
set xlabel 'time since first submit (s)'
set ylabel 'latency (ms)'
set grid
set key off
# One point per line of the logs: a run of values (seq, count, submit time, latency).
t0 = real(system("cat logs/latency-client-*.tsv | grep -v '^#' | awk 'NR == 1 || $3 < t { t = $3 } END { print t }'"))
plot for [f in system("ls logs/latency-client-*.tsv")] f using (($3 - t0) / 1000):4 with points pt 7 ps 0.3
