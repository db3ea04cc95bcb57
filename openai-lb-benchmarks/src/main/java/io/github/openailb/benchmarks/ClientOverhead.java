package io.github.openailb.benchmarks;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;

/**
 * Figure 2: the balanced {@code RestClient} and {@code WebClient} against the same clients
 * calling the stub directly, in interleaved rounds at a fixed concurrency. Once with a stub that
 * answers at once (every microsecond of the balancer shows, and on two cores client and stub
 * fight for the CPU), once with a stub that answers after a few milliseconds, still far quicker
 * than any real model.
 */
final class ClientOverhead {

	static final int CONCURRENCY = 16;

	private ClientOverhead() {
	}

	static void run(Report report, double scale) throws Exception {
		try (Stub instant = Stub.ok(); Stub slow = Stub.delayed(Duration.ofMillis(5))) {
			measure(report, "instant stub", instant, scale, 6, 1.5);
			measure(report, "stub answering in 5 ms", slow, scale, 4, 1.0);
		}
	}

	private static void measure(Report report, String stubName, Stub stub, double scale, int rounds,
			double seconds) throws Exception {
		String url = stub.url();
		try (Clients clients = new Clients(Clients.config(new String[] { "a", "b", "c" },
				new String[] { url, url, url }, new int[] { 1, 1, 1 }).build(), Clock.systemUTC());
				LoadDriver driver = new LoadDriver(CONCURRENCY)) {
			URI balanced = Clients.balanced();
			URI direct = Clients.target(url);
			Duration round = Duration.ofMillis((long) (seconds * 1000 * scale));
			Side rest = new Side("RestClient", (uri) -> driver.blocking(round, () -> clients.restCall(uri)));
			Side web = new Side("WebClient", (uri) -> driver.reactive(round, () -> clients.webCall(uri)));
			for (Side side : new Side[] { rest, web }) {
				System.out.printf(Locale.ROOT, "%n%s, %s, concurrency %d:%n", side.name, stubName, CONCURRENCY);
				// warm-up: JIT (the balanced path has more code to compile), connection pools
				for (int i = 0; i < 4; i++) {
					side.run.apply(direct);
					side.run.apply(balanced);
				}
				Samples ratio = new Samples();
				Samples addedP50 = new Samples();
				Samples addedP99 = new Samples();
				Samples directRate = new Samples();
				Samples directP50 = new Samples();
				Samples directP99 = new Samples();
				for (int i = 0; i < Math.max(2, Math.round(rounds * Math.min(1, scale * 2))); i++) {
					// alternate which goes first so neither profits from the order
					LoadDriver.Result d;
					LoadDriver.Result b;
					if (i % 2 == 0) {
						d = side.run.apply(direct);
						b = side.run.apply(balanced);
					}
					else {
						b = side.run.apply(balanced);
						d = side.run.apply(direct);
					}
					ratio.add(b.throughput() / d.throughput());
					addedP50.add(b.micros(50) - d.micros(50));
					addedP99.add(b.micros(99) - d.micros(99));
					directRate.add(d.throughput());
					directP50.add(d.micros(50));
					directP99.add(d.micros(99));
					System.out.printf(Locale.ROOT,
							"  round %d: direct %.0f/s p50 %.0f µs p99 %.0f µs | balanced %.0f/s p50 %.0f µs p99 %.0f µs%n",
							i + 1, d.throughput(), d.micros(50), d.micros(99), b.throughput(), b.micros(50),
							b.micros(99));
				}
				String figure = "2. " + side.name + " (" + stubName + ")";
				report.row(figure, "direct: calls/s, p50, p99 (µs)", directRate.format(0) + " /s, " + directP50.format(0)
						+ ", " + directP99.format(0), "-", "baseline");
				report.row(figure, "throughput ratio balanced/direct", ratio.format(3), "≥ 0.97",
						Report.verdict(ratio.mean() >= 0.97));
				report.row(figure, "added p50 latency", addedP50.format(1) + " µs", "< 50 µs",
						Report.verdict(addedP50.mean() < 50));
				report.row(figure, "added p99 latency", addedP99.format(1) + " µs", "< 200 µs",
						Report.verdict(addedP99.mean() < 200));
			}
		}
	}

	/** One client kind: runs one timed round against a URI. */
	private record Side(String name, Round run) {
	}

	@FunctionalInterface
	private interface Round {

		LoadDriver.Result apply(URI uri) throws Exception;

	}

}
