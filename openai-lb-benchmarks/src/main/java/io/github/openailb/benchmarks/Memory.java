package io.github.openailb.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.ref.Reference;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import io.github.openailb.auth.ApiKeyCredentials;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.LoadBalancer;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;

/**
 * Figure 6: heap per idle backend, per in-flight request, and a 10 MB response streamed through
 * the balanced {@code WebClient} to a slow reader while the heap (after GC) and Netty's pooled
 * direct memory are sampled. A control reads the same response into one {@code byte[]} to show
 * that the probe sees a held body.
 */
final class Memory {

	static final int BACKENDS = 10_000;

	static final int IN_FLIGHT = 400;

	static final int BIG = 10 * 1024 * 1024;

	private static final MemoryMXBean HEAP = ManagementFactory.getMemoryMXBean();

	private Memory() {
	}

	static void run(Report report, double scale) throws Exception {
		idleBackends(report);
		inFlight(report, (scale < 1) ? 100 : IN_FLIGHT);
		streamed(report);
	}

	static long usedAfterGc() {
		for (int i = 0; i < 3; i++) {
			System.gc();
		}
		return HEAP.getHeapMemoryUsage().getUsed();
	}

	private static void idleBackends(Report report) {
		long before = usedAfterGc();
		BalancerConfig.Builder builder = BalancerConfig.builder();
		for (int i = 0; i < BACKENDS; i++) {
			builder.backend(new BalancerConfig.BackendBuilder().name("backend-" + i)
				.url("https://instance-" + i + ".openai.azure.com")
				.priority(1 + i % 3)
				.apiKey("k" + i));
		}
		BalancerConfig config = builder.build();
		long withConfig = usedAfterGc();
		LoadBalancer balancer = LoadBalancer.builder(config).build();
		ApiKeyCredentials credentials = new ApiKeyCredentials(config.backends());
		long withBalancer = usedAfterGc();
		Reference.reachabilityFence(config);
		Reference.reachabilityFence(balancer);
		Reference.reachabilityFence(credentials);
		double configBytes = (withConfig - before) / (double) BACKENDS;
		double liveBytes = (withBalancer - withConfig) / (double) BACKENDS;
		System.out.printf(Locale.ROOT, "%nMemory, %d idle backends: configuration %.0f B each, live state %.0f B each%n",
				BACKENDS, configBytes, liveBytes);
		report.row("6. memory", "heap per idle backend: configuration", String.format(Locale.ROOT, "%.0f B", configBytes),
				"-", "context");
		report.row("6. memory", "heap per idle backend: state, breaker, key",
				String.format(Locale.ROOT, "%.0f B", liveBytes), "-", "reported");
	}

	private static void inFlight(Report report, int requests) throws Exception {
		AtomicInteger arrived = new AtomicInteger();
		Sinks.Empty<Void>[] gate = new Sinks.Empty[1];
		gate[0] = Sinks.empty();
		try (Stub parking = Stub.start((request, response) -> {
			arrived.incrementAndGet();
			return gate[0].asMono().then(Mono.defer(() -> Mono.from(Stub.completion(response))));
		})) {
			String url = parking.url();
			try (Clients clients = new Clients(Clients.config(new String[] { "a", "b", "c" },
					new String[] { url, url, url }, new int[] { 1, 1, 1 }).build(), Clock.systemUTC())) {
				URI balanced = Clients.balanced();
				URI direct = Clients.target(url);
				Samples perBalanced = new Samples();
				Samples perDirect = new Samples();
				Samples added = new Samples();
				for (int round = 0; round < 4; round++) {
					double d = parked(clients, direct, requests, arrived, gate);
					double b = parked(clients, balanced, requests, arrived, gate);
					if (round == 0) {
						continue; // the pools open their connections
					}
					perDirect.add(d);
					perBalanced.add(b);
					added.add(b - d);
					System.out.printf(Locale.ROOT, "%n  %d parked requests: direct %.0f B each, balanced %.0f B each", requests,
							d, b);
				}
				System.out.println();
				report.row("6. memory", "heap per in-flight request, direct (client + stub)", perDirect.format(0) + " B",
						"-", "baseline");
				report.row("6. memory", "heap per in-flight request, added by the balancer", added.format(0) + " B",
						"-", "reported");
			}
		}
	}

	private static double parked(Clients clients, URI uri, int requests, AtomicInteger arrived,
			Sinks.Empty<Void>[] gate) throws InterruptedException {
		arrived.set(0);
		gate[0] = Sinks.empty();
		long before = usedAfterGc();
		CountDownLatch done = new CountDownLatch(requests);
		for (int i = 0; i < requests; i++) {
			clients.webCall(uri).subscribe((length) -> done.countDown(), (error) -> {
				throw new IllegalStateException(error);
			});
		}
		while (arrived.get() < requests) {
			LockSupport.parkNanos(1_000_000);
		}
		long parked = usedAfterGc();
		gate[0].tryEmitEmpty();
		if (!done.await(30, TimeUnit.SECONDS)) {
			throw new IllegalStateException("parked requests did not finish");
		}
		return (parked - before) / (double) requests;
	}

	private static void streamed(Report report) throws Exception {
		byte[] chunk = new byte[16 * 1024];
		java.util.Arrays.fill(chunk, (byte) 'x');
		try (Stub big = Stub.start((request, response) -> response.status(HttpResponseStatus.OK)
			.header("content-type", "application/octet-stream")
			.header("content-length", Integer.toString(BIG))
			.send(Flux.range(0, BIG / chunk.length).map((i) -> Unpooled.wrappedBuffer(chunk))))) {
			String url = big.url();
			try (Clients clients = new Clients(Clients.config(new String[] { "a" }, new String[] { url },
					new int[] { 1 }).build(), Clock.systemUTC())) {
				URI balanced = Clients.balanced();
				// warm-up: connection, codecs
				read(clients, balanced, false);
				long baseline = usedAfterGc();
				long directBaseline = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
				AtomicLong peakHeap = new AtomicLong(baseline);
				AtomicLong peakDirect = new AtomicLong(directBaseline);
				AtomicInteger samples = new AtomicInteger();
				Thread sampler = new Thread(() -> {
					while (!Thread.currentThread().isInterrupted()) {
						System.gc();
						peakHeap.accumulateAndGet(HEAP.getHeapMemoryUsage().getUsed(), Math::max);
						peakDirect.accumulateAndGet(PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory(), Math::max);
						samples.incrementAndGet();
						LockSupport.parkNanos(50_000_000);
					}
				}, "heap-sampler");
				sampler.start();
				long start = System.nanoTime();
				long bytes = read(clients, balanced, true);
				double seconds = (System.nanoTime() - start) / 1e9;
				sampler.interrupt();
				sampler.join();
				if (bytes != BIG) {
					throw new IllegalStateException("read " + bytes + " bytes instead of " + BIG);
				}
				// control: the same response held in memory, to show the probe sees a held body
				byte[] held = clients.web.get().uri(balanced).retrieve().bodyToMono(byte[].class).block();
				long heldGrowth = usedAfterGc() - baseline;
				Reference.reachabilityFence(held);
				held = null;
				// control: the same response kept as unreleased buffers, to show the probe sees pooled memory
				java.util.List<DataBuffer> kept = clients.web.get().uri(balanced).retrieve().bodyToFlux(DataBuffer.class)
					.collectList().block();
				long keptGrowth = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() - directBaseline;
				kept.forEach(DataBufferUtils::release);
				double heapMb = (peakHeap.get() - baseline) / 1048576.0;
				double directMb = (peakDirect.get() - directBaseline) / 1048576.0;
				System.out.printf(Locale.ROOT,
						"%n10 MB streamed to a reader pausing 10 ms per 64 KB: %.1f s, %d heap samples after GC, peak heap growth %.2f MB, "
								+ "peak pooled direct memory growth %.2f MB; the same body held as byte[]: +%.1f MB heap, "
								+ "kept as buffers: +%.1f MB pooled direct memory%n",
						seconds, samples.get(), heapMb, directMb, heldGrowth / 1048576.0, keptGrowth / 1048576.0);
				report.row("6. memory", "10 MB response streamed slowly: peak heap growth",
						String.format(Locale.ROOT, "%.2f MB (%d samples over %.1f s)", heapMb, samples.get(), seconds),
						"≪ 10 MB", Report.verdict(heapMb < 2));
				report.row("6. memory", "same: peak pooled direct memory growth", String.format(Locale.ROOT, "%.2f MB", directMb),
						"≪ 10 MB", Report.verdict(directMb < 5));
				report.row("6. memory", "control: same body held as byte[] / kept as buffers",
						String.format(Locale.ROOT, "+%.1f MB heap / +%.1f MB direct", heldGrowth / 1048576.0,
								keptGrowth / 1048576.0),
						"≈ 10 MB", "the probes see a held body");
			}
		}
	}

	/** Read a response to its end, slowly (10 ms per 64 KB) or not; returns the bytes read. */
	private static long read(Clients clients, URI uri, boolean slowly) {
		AtomicLong bytes = new AtomicLong();
		AtomicLong unpaused = new AtomicLong();
		clients.web.get()
			.uri(uri)
			.retrieve()
			.bodyToFlux(DataBuffer.class)
			.concatMap((buffer) -> {
				int size = buffer.readableByteCount();
				bytes.addAndGet(size);
				DataBufferUtils.release(buffer);
				if (slowly && unpaused.addAndGet(size) >= 64 * 1024) {
					unpaused.set(0);
					return Mono.delay(Duration.ofMillis(10));
				}
				return Mono.empty();
			}, 1)
			.blockLast();
		return bytes.get();
	}

}
