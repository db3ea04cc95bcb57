package io.github.openailb.benchmarks;

import java.time.Duration;
import java.util.Locale;

/**
 * A blocking client called directly and through the balancer in interleaved rounds of closed-loop
 * load, reported as a figure-2 row set: the direct baseline, the throughput ratio and the added
 * p50 and p99. Used for the Spring AI rows of both Boot lines.
 */
final class BlockingRounds {

	private BlockingRounds() {
	}

	/**
	 * Warm both paths up, then measure them in alternating order.
	 * @param report where the rows go
	 * @param figure the figure's name
	 * @param driver the load
	 * @param scale the run's length factor
	 * @param direct one call straight to the stub
	 * @param balanced the same call through the balancer
	 */
	static void compare(Report report, String figure, LoadDriver driver, double scale, LoadDriver.BlockingCall direct,
			LoadDriver.BlockingCall balanced) throws Exception {
		Duration round = Duration.ofMillis((long) (1500 * scale));
		// the SDKs and Spring AI are a deep stack: warm both paths up well
		for (int i = 0; i < 3; i++) {
			driver.blocking(round, direct);
			driver.blocking(round, balanced);
		}
		Samples ratio = new Samples();
		Samples addedP50 = new Samples();
		Samples addedP99 = new Samples();
		Samples directRate = new Samples();
		Samples directP50 = new Samples();
		Samples directP99 = new Samples();
		for (int i = 0; i < Math.max(2, Math.round(6 * Math.min(1, scale * 2))); i++) {
			LoadDriver.Result d;
			LoadDriver.Result b;
			if (i % 2 == 0) {
				d = driver.blocking(round, direct);
				b = driver.blocking(round, balanced);
			}
			else {
				b = driver.blocking(round, balanced);
				d = driver.blocking(round, direct);
			}
			ratio.add(b.throughput() / d.throughput());
			addedP50.add(b.micros(50) - d.micros(50));
			addedP99.add(b.micros(99) - d.micros(99));
			directRate.add(d.throughput());
			directP50.add(d.micros(50));
			directP99.add(d.micros(99));
			System.out.printf(Locale.ROOT,
					"  round %d: direct %.0f/s p50 %.0f µs p99 %.0f µs | balanced %.0f/s p50 %.0f µs p99 %.0f µs%n", i + 1,
					d.throughput(), d.micros(50), d.micros(99), b.throughput(), b.micros(50), b.micros(99));
		}
		report.row(figure, "direct: calls/s, p50, p99 (µs)",
				directRate.format(0) + " /s, " + directP50.format(0) + ", " + directP99.format(0), "-", "baseline");
		report.row(figure, "throughput ratio balanced/direct", ratio.format(3), "≥ 0.97",
				Report.verdict(ratio.mean() >= 0.97));
		report.row(figure, "added p50 latency", addedP50.format(1) + " µs", "< 50 µs",
				Report.verdict(addedP50.mean() < 50));
		report.row(figure, "added p99 latency", addedP99.format(1) + " µs", "< 200 µs",
				Report.verdict(addedP99.mean() < 200));
	}

}
