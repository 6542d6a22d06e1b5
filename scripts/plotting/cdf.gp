# Latency CDF from the clients' latency logs: gnuplot scripts/plotting/cdf.gp -> logs/plot_cdf.pdf
# (Run from the repository root after scripts/run.sh; `paxos report` draws the same without gnuplot.)
set terminal pdfcairo size 6in,4in
set output 'logs/plot_cdf.pdf'
set title 'Latency CDF (submit until the client knows the value is decided)'
set xlabel 'latency (ms)'
set ylabel 'fraction of values'
set yrange [0:1]
set grid
set key off
# Sorted latencies (the last column of every logs/latency-client-*.tsv line, once per value of
# the line's run: seq, count, submit time, latency) against their rank / count.
values = "cat logs/latency-client-*.tsv | grep -v '^#' | awk -F'\\t' '{ c = NF == 4 ? $2 : 1; for (i = 0; i < c; i++) print $NF }'"
n = real(system(values . " | wc -l"))
plot '< '.values.' | sort -g' using 1:($0+1)/n with lines lw 2
