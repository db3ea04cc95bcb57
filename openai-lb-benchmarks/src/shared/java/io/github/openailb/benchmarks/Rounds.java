package io.github.openailb.benchmarks;

import java.util.Locale;

/**
 * One client called directly and through the balancer in interleaved rounds of closed-loop load,
 * reported as a figure-2 row set: the direct baseline, the throughput ratio and the added p50 and
 * p99. Every row of figure 2 is measured this way (both Boot lines).
 */
final class Rounds {

	private Rounds() {
	}

	/** One timed round of load on one side. */
	@FunctionalInterface
	interface Round {

		LoadDriver.Result run() throws Exception;

	}

	/**
	 * Warm both sides up, then measure them, alternating which goes first so neither profits from
	 * the order.
	 * @param report where the rows go
	 * @param figure the figure's name
	 * @param scale the run's length factor
	 * @param rounds the measured rounds at full length
	 * @param warmups the warm-up rounds per side (JIT, connection pools)
	 * @param direct one round straight to the stub
	 * @param balanced one round through the balancer
	 * @throws Exception when a round fails
	 */
	static void compare(Report report, String figure, double scale, int rounds, int warmups, Round direct,
			Round balanced) throws Exception {
		for (int i = 0; i < warmups; i++) {
			direct.run();
			balanced.run();
		}
		Samples ratio = new Samples();
		Samples addedP50 = new Samples();
		Samples addedP99 = new Samples();
		Samples directRate = new Samples();
		Samples directP50 = new Samples();
		Samples directP99 = new Samples();
		Samples cpu = new Samples();
		for (int i = 0; i < Math.max(2, Math.round(rounds * Math.min(1, scale * 2))); i++) {
			LoadDriver.Result d;
			LoadDriver.Result b;
			if (i % 2 == 0) {
				d = direct.run();
				b = balanced.run();
			}
			else {
				b = balanced.run();
				d = direct.run();
			}
			ratio.add(b.throughput() / d.throughput());
			addedP50.add(b.micros(50) - d.micros(50));
			addedP99.add(b.micros(99) - d.micros(99));
			directRate.add(d.throughput());
			directP50.add(d.micros(50));
			directP99.add(d.micros(99));
			cpu.add(b.cpuMicrosPerCall() / d.cpuMicrosPerCall());
			System.out.printf(Locale.ROOT,
					"  round %d: direct %.0f/s p50 %.0f µs p99 %.0f µs cpu %.0f µs/call | balanced %.0f/s p50 %.0f µs p99 %.0f µs cpu %.0f µs/call%n",
					i + 1, d.throughput(), d.micros(50), d.micros(99), d.cpuMicrosPerCall(), b.throughput(), b.micros(50),
					b.micros(99), b.cpuMicrosPerCall());
		}
		report.row(figure, "direct: calls/s, p50, p99 (µs)",
				directRate.format(0) + " /s, " + directP50.format(0) + ", " + directP99.format(0), "-", "baseline");
		report.row(figure, "throughput ratio balanced/direct", ratio.format(3), "≥ 0.97",
				Report.verdict(ratio.mean() >= 0.97));
		report.row(figure, "process CPU per call balanced/direct", cpu.format(3), "-", "context");
		report.row(figure, "added p50 latency", addedP50.format(1) + " µs", "< 50 µs",
				Report.verdict(addedP50.mean() < 50));
		report.row(figure, "added p99 latency", addedP99.format(1) + " µs", "< 200 µs",
				Report.verdict(addedP99.mean() < 200));
	}

}
