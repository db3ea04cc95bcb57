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
				// four warm-up rounds per side: JIT (the balanced path has more code to compile), connection pools
				Rounds.compare(report, "2. " + side.name + " (" + stubName + ")", scale, rounds, 4,
						() -> side.run.apply(direct), () -> side.run.apply(balanced));
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
