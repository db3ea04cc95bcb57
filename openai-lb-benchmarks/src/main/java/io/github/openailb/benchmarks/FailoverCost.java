package io.github.openailb.benchmarks;

import java.net.URI;
import java.time.Clock;
import java.util.Locale;

import org.HdrHistogram.Histogram;

/**
 * Figure 3: a balanced call whose first backend answers 429 against a plain balanced call, one
 * call at a time, interleaved. The extra time should be one loopback round trip to the throttled
 * stub (measured directly alongside), and no sleep.
 */
final class FailoverCost {

	private FailoverCost() {
	}

	static void run(Report report, double scale) {
		ShiftingClock clock = new ShiftingClock();
		try (Stub ok = Stub.ok(); Stub throttled = Stub.throttled(60_000);
				Clients plain = new Clients(Clients.config(new String[] { "ok" }, new String[] { ok.url() },
						new int[] { 1 }).build(), Clock.systemUTC());
				Clients failover = new Clients(Clients.config(new String[] { "throttled", "ok" },
						new String[] { throttled.url(), ok.url() }, new int[] { 1, 2 }).build(), clock)) {
			URI balanced = Clients.balanced();
			URI throttledDirect = Clients.target(throttled.url());
			int calls = (int) (500 * scale);
			System.out.printf(Locale.ROOT, "%nFailover cost, one call at a time, %d calls per round:%n", calls);
			Samples plainP50 = new Samples();
			Samples failoverP50 = new Samples();
			Samples extraP50 = new Samples();
			Samples roundTripP50 = new Samples();
			Samples extraPerRoundTrip = new Samples();
			for (int round = 0; round < 6; round++) {
				Histogram plainTimes = new Histogram(3);
				Histogram failoverTimes = new Histogram(3);
				Histogram roundTrips = new Histogram(3);
				for (int i = 0; i < calls; i++) {
					long start = System.nanoTime();
					plain.webCall(balanced).block();
					plainTimes.recordValue(System.nanoTime() - start);
					// the throttled backend's cool-down is over: it is tried first again
					clock.shift(3_600_000);
					start = System.nanoTime();
					failover.webCall(balanced).block();
					failoverTimes.recordValue(System.nanoTime() - start);
					start = System.nanoTime();
					failover.webStatus(throttledDirect).block();
					roundTrips.recordValue(System.nanoTime() - start);
				}
				if (failover.balancer.backend("throttled").counts().throttled() < (long) calls * (round + 1)) {
					throw new IllegalStateException("the throttled backend was not tried first on every call");
				}
				if (round == 0) {
					continue; // warm-up
				}
				double p = plainTimes.getValueAtPercentile(50) / 1000.0;
				double f = failoverTimes.getValueAtPercentile(50) / 1000.0;
				double r = roundTrips.getValueAtPercentile(50) / 1000.0;
				plainP50.add(p);
				failoverP50.add(f);
				extraP50.add(f - p);
				roundTripP50.add(r);
				extraPerRoundTrip.add((f - p) / r);
				System.out.printf(Locale.ROOT,
						"  round %d: plain p50 %.0f µs, with failover p50 %.0f µs, direct 429 round trip p50 %.0f µs, max with failover %.0f µs%n",
						round, p, f, r, failoverTimes.getMaxValue() / 1000.0);
			}
			report.row("3. failover cost", "plain balanced call p50", plainP50.format(0) + " µs", "-", "baseline");
			report.row("3. failover cost", "call whose first backend answers 429, p50", failoverP50.format(0) + " µs", "-",
					"context");
			report.row("3. failover cost", "extra time p50", extraP50.format(0) + " µs", "one round trip, no sleep",
					"context");
			report.row("3. failover cost", "one direct 429 round trip p50", roundTripP50.format(0) + " µs", "-", "context");
			report.row("3. failover cost", "extra time / one round trip", extraPerRoundTrip.format(2), "≈ 1, no sleep",
					Report.verdict(extraPerRoundTrip.mean() < 1.5 && extraP50.mean() < 1000));
		}
	}

}
