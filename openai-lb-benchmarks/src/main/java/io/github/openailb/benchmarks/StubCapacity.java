package io.github.openailb.benchmarks;

import java.time.Duration;
import java.util.Locale;

import io.netty.buffer.Unpooled;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * Figure 0: how many calls per second the stub serves on its own, to a bare Reactor Netty client
 * (no Spring, no balancer), so that the later figures can be read knowing the stub is not what
 * limits them.
 */
final class StubCapacity {

	private StubCapacity() {
	}

	static void run(Report report, double scale) {
		ConnectionProvider pool = ConnectionProvider.builder("bench-bare").maxConnections(500).build();
		try (Stub stub = Stub.ok(); LoadDriver driver = new LoadDriver(ClientOverhead.CONCURRENCY)) {
			HttpClient client = HttpClient.create(pool).baseUrl(stub.url()).headers((h) -> h.set("content-type", "application/json"));
			Duration round = Duration.ofMillis((long) (1500 * scale));
			java.util.function.Supplier<Mono<?>> call = () -> client.post()
				.uri(Stub.PATH)
				.send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(Stub.REQUEST)))
				.responseSingle((response, body) -> body.asByteArray());
			// it runs first in a cold JVM: warm the client and the stub well
			for (int i = 0; i < 4; i++) {
				driver.reactive(round, call);
			}
			Samples rate = new Samples();
			Samples p50 = new Samples();
			Samples p99 = new Samples();
			for (int i = 0; i < 3; i++) {
				LoadDriver.Result result = driver.reactive(round, call);
				rate.add(result.throughput());
				p50.add(result.micros(50));
				p99.add(result.micros(99));
			}
			System.out.printf(Locale.ROOT, "%nStub alone, bare Reactor Netty client, concurrency %d:%n",
					ClientOverhead.CONCURRENCY);
			report.row("0. stub capacity", "calls/s; p50, p99 (µs)",
					rate.format(0) + " /s; " + p50.format(0) + ", " + p99.format(0), "not the bottleneck",
					"context");
		}
		finally {
			pool.dispose();
		}
	}

}
