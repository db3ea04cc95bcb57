package io.github.openailb.benchmarks;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

import io.github.openailb.core.BalancerConfig;
import org.HdrHistogram.Recorder;

/**
 * Figure 4: goodput under throttling. Three stubs with request budgets per fixed one-second
 * window (a per-minute quota scaled down to keep the run short) answer 429 with a retry hint up
 * to the end of the window once their budget is spent; the PTU-like one has priority 1, the two
 * pay-as-you-go ones priority 2, as in the demo. An open-loop caller offers more than any single
 * budget, and more than their sum. Counted per window: successes against the sum of budgets, and
 * 429s that reached the caller in a window where some stub still had budget left (avoidable).
 */
final class Goodput {

	static final int[] BUDGETS = { 50, 100, 100 };

	static final int OFFERED_PER_SECOND = 300;

	static final int WARM_WINDOWS = 2;

	private Goodput() {
	}

	static void run(Report report, double scale) throws Exception {
		int seconds = Math.max(3, (int) Math.round(10 * scale));
		variant(report, "Azure-like 429 (retry-after-ms + Retry-After)", true, false, Duration.ZERO, seconds);
		variant(report, "same + x-ratelimit-* headers on every answer", true, true, Duration.ZERO, seconds);
		variant(report, "429 with whole-second Retry-After only", false, false, Duration.ZERO, seconds);
		variant(report, "whole-second Retry-After only, max-wait 1s", false, false, Duration.ofSeconds(1), seconds);
	}

	private static void variant(Report report, String name, boolean withMillis, boolean quotaHeaders, Duration maxWait,
			int seconds) throws Exception {
		// two more windows at the start warm the JIT and settle the cool-downs; they are not counted
		seconds += WARM_WINDOWS;
		int windows = seconds + 3;
		List<BudgetStub> budgets = new ArrayList<>();
		List<Stub> stubs = new ArrayList<>();
		try {
			for (int budget : BUDGETS) {
				BudgetStub counter = new BudgetStub(budget, withMillis, quotaHeaders, windows);
				budgets.add(counter);
				stubs.add(Stub.start((request, response) -> counter.answer(response)));
			}
			BalancerConfig config = Clients.config(new String[] { "ptu", "paygo-1", "paygo-2" },
					new String[] { stubs.get(0).url(), stubs.get(1).url(), stubs.get(2).url() }, new int[] { 1, 2, 2 })
				.maxWait(maxWait)
				.build();
			try (Clients clients = new Clients(config, Clock.systemUTC())) {
				URI balanced = Clients.balanced();
				for (int i = 0; i < 50; i++) {
					clients.webStatus(balanced).block();
				}
				long firstWindow = System.currentTimeMillis() / 1000 + 1;
				budgets.forEach((budget) -> budget.firstWindow = firstWindow);
				AtomicIntegerArray ok = new AtomicIntegerArray(windows);
				AtomicIntegerArray throttled = new AtomicIntegerArray(windows);
				AtomicIntegerArray other = new AtomicIntegerArray(windows);
				Recorder latency = new Recorder(3);
				long start = firstWindow * 1000;
				while (System.currentTimeMillis() < start) {
					LockSupport.parkNanos(100_000);
				}
				int total = seconds * OFFERED_PER_SECOND;
				CountDownLatch done = new CountDownLatch(total);
				long origin = System.nanoTime();
				long period = 1_000_000_000L / OFFERED_PER_SECOND;
				for (int i = 0; i < total; i++) {
					long due = origin + i * period;
					long wait;
					while ((wait = due - System.nanoTime()) > 0) {
						LockSupport.parkNanos(wait);
					}
					long sent = System.nanoTime();
					clients.webStatus(balanced).subscribe((status) -> {
						latency.recordValue(System.nanoTime() - sent);
						int window = (int) (System.currentTimeMillis() / 1000 - firstWindow);
						AtomicIntegerArray counter = (status == 200) ? ok : (status == 429) ? throttled : other;
						counter.incrementAndGet(Math.min(window, windows - 1));
						done.countDown();
					}, (error) -> {
						other.incrementAndGet(0);
						done.countDown();
					});
				}
				if (!done.await(30, TimeUnit.SECONDS)) {
					throw new IllegalStateException("calls did not finish");
				}
				summarise(report, name, seconds, budgets, ok, throttled, other, latency);
			}
		}
		finally {
			stubs.forEach(Stub::close);
		}
	}

	private static void summarise(Report report, String name, int seconds, List<BudgetStub> budgets,
			AtomicIntegerArray ok, AtomicIntegerArray throttled, AtomicIntegerArray other, Recorder latency) {
		int capacity = 0;
		for (int budget : BUDGETS) {
			capacity += budget;
		}
		Samples goodput = new Samples();
		long callerThrottled = 0;
		long avoidable = 0;
		long stubThrottled = 0;
		long failed = 0;
		System.out.printf(Locale.ROOT, "%nGoodput, %s, offered %d/s, budgets %s/s per 1-s window:%n", name, OFFERED_PER_SECOND,
				java.util.Arrays.toString(BUDGETS));
		for (int w = WARM_WINDOWS; w < seconds; w++) {
			int free = 0;
			StringBuilder line = new StringBuilder();
			for (BudgetStub budget : budgets) {
				free += Math.max(0, budget.budget - budget.served.get(w));
				stubThrottled += budget.refused.get(w);
				line.append(' ').append(budget.served.get(w)).append('/').append(budget.budget);
			}
			goodput.add(ok.get(w) / (double) capacity);
			callerThrottled += throttled.get(w);
			avoidable += Math.min(throttled.get(w), free);
			failed += other.get(w);
			System.out.printf(Locale.ROOT, "  window %2d: caller ok %3d, 429 %3d, other %d | served by stubs%s, 429s from stubs %d%n",
					w, ok.get(w), throttled.get(w), other.get(w), line, sum(budgets, w));
		}
		org.HdrHistogram.Histogram times = latency.getIntervalHistogram();
		String figure = "4. goodput, " + name;
		report.row(figure, "successes/s ÷ sum of budgets (" + capacity + "/s)", percent(goodput), "≥ 95 %",
				Report.verdict(goodput.mean() >= 0.95));
		report.row(figure, "avoidable 429s reaching the caller", avoidable + " of " + callerThrottled + " caller 429s",
				"0", Report.verdict(avoidable == 0));
		report.row(figure, "429 answers absorbed from stubs; errors", stubThrottled + "; " + failed, "-",
				String.format(Locale.ROOT, "caller p50 %.1f ms, p99 %.1f ms", times.getValueAtPercentile(50) / 1e6,
						times.getValueAtPercentile(99) / 1e6));
	}

	private static int sum(List<BudgetStub> budgets, int window) {
		int sum = 0;
		for (BudgetStub budget : budgets) {
			sum += budget.refused.get(window);
		}
		return sum;
	}

	private static String percent(Samples goodput) {
		return String.format(Locale.ROOT, "%.1f ± %.1f %%", goodput.mean() * 100, goodput.error() * 100);
	}

	/** A request budget per fixed one-second window, counted per window. */
	static final class BudgetStub {

		final int budget;

		private final boolean withMillis;

		private final boolean quotaHeaders;

		volatile long firstWindow = Long.MAX_VALUE / 2000;

		final AtomicIntegerArray served;

		final AtomicIntegerArray refused;

		private long window;

		private int used;

		BudgetStub(int budget, boolean withMillis, boolean quotaHeaders, int windows) {
			this.budget = budget;
			this.withMillis = withMillis;
			this.quotaHeaders = quotaHeaders;
			this.served = new AtomicIntegerArray(windows);
			this.refused = new AtomicIntegerArray(windows);
		}

		org.reactivestreams.Publisher<Void> answer(reactor.netty.http.server.HttpServerResponse response) {
			return answer(response, null);
		}

		/** Answer one request: {@code body} (JSON) while the budget lasts, else the 429; null for a chat completion. */
		org.reactivestreams.Publisher<Void> answer(reactor.netty.http.server.HttpServerResponse response, byte[] body) {
			long now = System.currentTimeMillis();
			long left = admit(now);
			long retryAfter = (left >= 0) ? 0 : -left;
			if (this.quotaHeaders) {
				// as OpenAI sends them: limit and remaining requests, time to the window's reset
				response.header("x-ratelimit-limit-requests", Integer.toString(this.budget))
					.header("x-ratelimit-remaining-requests", Long.toString(Math.max(0, left)))
					.header("x-ratelimit-reset-requests", Math.max(1, (now / 1000 + 1) * 1000 - now) + "ms");
			}
			int index = (int) Math.max(0, Math.min(this.served.length() - 1, now / 1000 - this.firstWindow));
			if (retryAfter == 0) {
				this.served.incrementAndGet(index);
				if (body == null) {
					return Stub.completion(response);
				}
				return response.status(io.netty.handler.codec.http.HttpResponseStatus.OK)
					.header("content-type", "application/json")
					.header("content-length", Integer.toString(body.length))
					.send(reactor.core.publisher.Mono.just(io.netty.buffer.Unpooled.wrappedBuffer(body)));
			}
			this.refused.incrementAndGet(index);
			return Stub.throttled(response, retryAfter, this.withMillis);
		}

		/**
		 * Take one request from this window's budget: the requests left after it when taken,
		 * else minus the milliseconds to the next window.
		 */
		private synchronized long admit(long now) {
			long current = now / 1000;
			if (current != this.window) {
				this.window = current;
				this.used = 0;
			}
			if (this.used < this.budget) {
				this.used++;
				return this.budget - this.used;
			}
			return -Math.max(1, (current + 1) * 1000 - now);
		}

	}

}
