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
# Sorted latencies (column 3 of every logs/latency-client-*.tsv) against their rank / count.
n = real(system("cat logs/latency-client-*.tsv | grep -vc '^#'"))
plot '< cat logs/latency-client-*.tsv | grep -v "^#" | cut -f3 | sort -g' using 1:($0+1)/n with lines lw 2
