package io.github.openailb.benchmarks;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;

import org.HdrHistogram.Histogram;
import reactor.core.publisher.Mono;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.MediaType;

/**
 * Figure 5: time to the first byte of a streamed (SSE) chat completion through the balanced
 * {@code WebClient} against the same client calling the stub directly, one call at a time,
 * alternating. Once with a stub that streams at once (pure overhead), once with a stub whose
 * first token takes 20 ms (still faster than any real model).
 */
final class StreamingFirstByte {

	private StreamingFirstByte() {
	}

	static void run(Report report, double scale) {
		try (Stub instant = Stub.start((request, response) -> Stub.events(response, 20));
				Stub thinking = Stub.start((request, response) -> Mono.delay(Duration.ofMillis(20))
					.then(Mono.defer(() -> Mono.from(Stub.events(response, 20)))))) {
			measure(report, "instant SSE stub", instant, (int) (800 * scale));
			measure(report, "first token after 20 ms", thinking, Math.max(10, (int) (40 * scale)));
		}
	}

	private static void measure(Report report, String name, Stub stub, int calls) {
		String url = stub.url();
		try (Clients clients = new Clients(Clients.config(new String[] { "a", "b", "c" },
				new String[] { url, url, url }, new int[] { 1, 1, 1 }).build(), Clock.systemUTC())) {
			URI balanced = Clients.balanced();
			URI direct = Clients.target(url);
			System.out.printf(Locale.ROOT, "%nStreaming, %s, one call at a time, %d calls per side per round:%n", name,
					calls);
			Samples ratio = new Samples();
			Samples added = new Samples();
			Samples directP50 = new Samples();
			for (int round = 0; round < 6; round++) {
				Histogram d = new Histogram(3);
				Histogram b = new Histogram(3);
				for (int i = 0; i < calls; i++) {
					if (i % 2 == 0) {
						d.recordValue(firstByte(clients, direct));
						b.recordValue(firstByte(clients, balanced));
					}
					else {
						b.recordValue(firstByte(clients, balanced));
						d.recordValue(firstByte(clients, direct));
					}
				}
				if (round == 0) {
					continue; // warm-up
				}
				double dp = d.getValueAtPercentile(50) / 1000.0;
				double bp = b.getValueAtPercentile(50) / 1000.0;
				ratio.add(bp / dp);
				added.add(bp - dp);
				directP50.add(dp);
				System.out.printf(Locale.ROOT, "  round %d: first byte p50 direct %.0f µs, balanced %.0f µs%n", round, dp,
						bp);
			}
			String figure = "5. streaming, " + name;
			report.row(figure, "direct time to first byte p50", directP50.format(0) + " µs", "-", "baseline");
			report.row(figure, "added time to first byte p50", added.format(0) + " µs", "-", "context");
			report.row(figure, "time to first byte, balanced ÷ direct", ratio.format(3), "≤ 1.05",
					Report.verdict(ratio.mean() <= 1.05));
		}
	}

	/** Nanoseconds until the first body bytes; the stream is then read to its end. */
	private static long firstByte(Clients clients, URI uri) {
		long start = System.nanoTime();
		long[] first = new long[1];
		clients.web.post()
			.uri(uri)
			.contentType(MediaType.APPLICATION_JSON)
			.accept(MediaType.TEXT_EVENT_STREAM)
			.header("api-key", Clients.KEY)
			.bodyValue(Stub.REQUEST)
			.retrieve()
			.bodyToFlux(DataBuffer.class)
			.doOnNext((buffer) -> {
				if (first[0] == 0) {
					first[0] = System.nanoTime() - start;
				}
				DataBufferUtils.release(buffer);
			})
			.blockLast();
		if (first[0] == 0) {
			throw new IllegalStateException("the stream had no body");
		}
		return first[0];
	}

}
