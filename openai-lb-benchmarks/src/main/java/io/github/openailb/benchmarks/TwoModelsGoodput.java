package io.github.openailb.benchmarks;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

import io.github.openailb.core.BalancerConfig;
import io.github.openailb.transport.BalancingClientHttpConnector;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.HdrHistogram.Recorder;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

import org.springframework.http.MediaType;

/**
 * Figure 9 (issue #15): goodput with two models sharing three instances. Each stub instance has a
 * chat and an embeddings deployment, each with its own request budget per fixed one-second window
 * (Azure assigns quota per deployment), answering 429 with a hint to the window's end once it is
 * spent; the PTU-like instance has priority 1, the two pay-as-you-go ones priority 2, and each
 * names its deployments after itself. One open-loop caller mixes chat (more than the chat budgets'
 * sum) and embeddings (less than the embeddings budgets' sum, more than the PTU's). Counted per
 * window and model: successes against what could be served, 429s reaching the caller while a
 * deployment of that model still had budget (avoidable), and where each model's calls were served.
 * The last variant lists no deployments (one state per backend, as before #15), for comparison.
 */
final class TwoModelsGoodput {

	static final String[] INSTANCES = { "ptu", "paygo-1", "paygo-2" };

	static final int[] PRIORITIES = { 1, 2, 2 };

	/** Chat budgets per window: their sum (250) is below the chat load. */
	static final int[] CHAT_BUDGETS = { 50, 100, 100 };

	/** Embeddings budgets per window: the PTU's is below the embeddings load, the sum (270) above. */
	static final int[] EMBEDDING_BUDGETS = { 150, 60, 60 };

	static final int CHAT_PER_SECOND = 300;

	static final int EMBEDDINGS_PER_SECOND = 200;

	/** Windows not counted at the start of each variant: the cool-downs settle. */
	static final int WARM_WINDOWS = 4;

	static final String CHAT = "gpt-4o";

	static final String EMBEDDING = "text-embedding-3-small";

	private static final byte[] EMBEDDING_REQUEST = "{\"input\":\"The quick brown fox\"}"
		.getBytes(StandardCharsets.UTF_8);

	private static final byte[] EMBEDDING_ANSWER = ("{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,"
			+ "\"embedding\":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]}],\"model\":\"text-embedding-3-small\","
			+ "\"usage\":{\"prompt_tokens\":5,\"total_tokens\":5}}")
		.getBytes(StandardCharsets.UTF_8);

	private TwoModelsGoodput() {
	}

	static void run(Report report, double scale) throws Exception {
		int seconds = Math.max(3, (int) Math.round(10 * scale));
		// not reported: whichever variant ran first would pay for compiling the request path
		variant(null, "warm-up", true, false, 3);
		variant(report, "deployment maps, Azure-like 429s", true, false, seconds);
		variant(report, "deployment maps + x-ratelimit-* headers on every answer", true, true, seconds);
		variant(report, "no maps (one state per backend, as before #15)", false, false, seconds);
	}

	private static void variant(Report report, String name, boolean mapped, boolean quotaHeaders, int seconds)
			throws Exception {
		seconds += WARM_WINDOWS;
		int windows = seconds + 3;
		List<Instance> instances = new ArrayList<>();
		List<Stub> stubs = new ArrayList<>();
		try {
			BalancerConfig.Builder config = BalancerConfig.builder();
			for (int i = 0; i < INSTANCES.length; i++) {
				String chat = mapped ? CHAT + "-" + INSTANCES[i] : CHAT;
				String embedding = mapped ? EMBEDDING + "-" + INSTANCES[i] : EMBEDDING;
				Instance instance = new Instance(
						new Goodput.BudgetStub(CHAT_BUDGETS[i], true, quotaHeaders, windows), chat,
						new Goodput.BudgetStub(EMBEDDING_BUDGETS[i], true, quotaHeaders, windows), embedding);
				instances.add(instance);
				Stub stub = Stub.start(instance::answer);
				stubs.add(stub);
				BalancerConfig.BackendBuilder backend = new BalancerConfig.BackendBuilder().name(INSTANCES[i])
					.url(stub.url())
					.priority(PRIORITIES[i])
					.apiKey(Clients.KEY + "-" + i);
				if (mapped) {
					Map<String, String> deployments = new LinkedHashMap<>();
					deployments.put(CHAT, chat);
					deployments.put(EMBEDDING, embedding);
					backend.deployments(deployments);
				}
				config.backend(backend);
			}
			try (Clients clients = new Clients(config.build(), Clock.systemUTC())) {
				URI chat = URI.create(BalancingClientHttpConnector.BASE_URL + "/openai/deployments/" + CHAT
						+ "/chat/completions?api-version=2024-10-21");
				URI embeddings = URI.create(BalancingClientHttpConnector.BASE_URL + "/openai/deployments/" + EMBEDDING
						+ "/embeddings?api-version=2024-10-21");
				for (int i = 0; i < 50; i++) {
					status(clients, chat, Stub.REQUEST).block();
					status(clients, embeddings, EMBEDDING_REQUEST).block();
				}
				long firstWindow = System.currentTimeMillis() / 1000 + 1;
				instances.forEach((instance) -> instance.startAt(firstWindow));
				Counts chatCounts = new Counts(windows);
				Counts embeddingCounts = new Counts(windows);
				Recorder latency = new Recorder(3);
				long start = firstWindow * 1000;
				while (System.currentTimeMillis() < start) {
					LockSupport.parkNanos(100_000);
				}
				int perSecond = CHAT_PER_SECOND + EMBEDDINGS_PER_SECOND;
				int total = seconds * perSecond;
				CountDownLatch done = new CountDownLatch(total);
				long origin = System.nanoTime();
				long period = 1_000_000_000L / perSecond;
				for (int i = 0; i < total; i++) {
					// the i-th call embeds when the running share of embeddings steps up here
					boolean embed = (long) (i + 1) * EMBEDDINGS_PER_SECOND / perSecond > (long) i
							* EMBEDDINGS_PER_SECOND / perSecond;
					Counts counts = embed ? embeddingCounts : chatCounts;
					long due = origin + i * period;
					long wait;
					while ((wait = due - System.nanoTime()) > 0) {
						LockSupport.parkNanos(wait);
					}
					long sent = System.nanoTime();
					status(clients, embed ? embeddings : chat, embed ? EMBEDDING_REQUEST : Stub.REQUEST)
						.subscribe((status) -> {
							latency.recordValue(System.nanoTime() - sent);
							int window = (int) (System.currentTimeMillis() / 1000 - firstWindow);
							counts.count(status, Math.min(window, windows - 1));
							done.countDown();
						}, (error) -> {
							counts.other.incrementAndGet(0);
							done.countDown();
						});
				}
				if (!done.await(30, TimeUnit.SECONDS)) {
					throw new IllegalStateException("calls did not finish");
				}
				if (report == null) {
					return;
				}
				String figure = "9. two models, " + name;
				summarise(report, figure, "chat", CHAT_PER_SECOND, seconds, instances, true, chatCounts);
				summarise(report, figure, "embeddings", EMBEDDINGS_PER_SECOND, seconds, instances, false,
						embeddingCounts);
				org.HdrHistogram.Histogram times = latency.getIntervalHistogram();
				report.row(figure, "caller latency, both models", String.format(Locale.ROOT, "p50 %.1f ms, p99 %.1f ms",
						times.getValueAtPercentile(50) / 1e6, times.getValueAtPercentile(99) / 1e6), "-", "-");
			}
		}
		finally {
			stubs.forEach(Stub::close);
		}
	}

	/** A reactive call answering with its status code, whatever it is. */
	private static Mono<Integer> status(Clients clients, URI uri, byte[] body) {
		return clients.web.post()
			.uri(uri)
			.contentType(MediaType.APPLICATION_JSON)
			.header("api-key", Clients.KEY)
			.bodyValue(body)
			.retrieve()
			.onStatus((code) -> true, (response) -> Mono.empty())
			.toEntity(byte[].class)
			.map((entity) -> entity.getStatusCode().value());
	}

	private static void summarise(Report report, String figure, String model, int offered, int seconds,
			List<Instance> instances, boolean chat, Counts counts) {
		int capacity = 0;
		for (Instance instance : instances) {
			capacity += instance.budget(chat).budget;
		}
		int servable = Math.min(offered, capacity);
		Samples goodput = new Samples();
		long callerThrottled = 0;
		long avoidable = 0;
		long failed = 0;
		long[] served = new long[instances.size()];
		long[] refused = new long[instances.size()];
		System.out.printf(Locale.ROOT, "%n%s, %s: offered %d/s, deployment budgets %s/s per 1-s window:%n", figure, model,
				offered, budgets(instances, chat));
		for (int w = WARM_WINDOWS; w < seconds; w++) {
			int free = 0;
			StringBuilder line = new StringBuilder();
			for (int i = 0; i < instances.size(); i++) {
				Goodput.BudgetStub budget = instances.get(i).budget(chat);
				free += Math.max(0, budget.budget - budget.served.get(w));
				served[i] += budget.served.get(w);
				refused[i] += budget.refused.get(w);
				line.append(' ').append(budget.served.get(w)).append('/').append(budget.budget);
			}
			goodput.add(counts.ok.get(w) / (double) servable);
			callerThrottled += counts.throttled.get(w);
			avoidable += Math.min(counts.throttled.get(w), free);
			failed += counts.other.get(w);
			System.out.printf(Locale.ROOT, "  window %2d: caller ok %3d, 429 %3d, other %d | served by deployments%s%n", w,
					counts.ok.get(w), counts.throttled.get(w), counts.other.get(w), line);
		}
		failed += counts.other.get(0);
		long total = 0;
		for (long value : served) {
			total += value;
		}
		StringBuilder spread = new StringBuilder();
		for (int i = 0; i < instances.size(); i++) {
			spread.append((i > 0) ? ", " : "")
				.append(String.format(Locale.ROOT, "%s %.0f %%", INSTANCES[i], 100.0 * served[i] / Math.max(1, total)));
		}
		StringBuilder absorbed = new StringBuilder();
		for (int i = 0; i < instances.size(); i++) {
			absorbed.append((i > 0) ? ", " : "").append(INSTANCES[i]).append(' ').append(refused[i]);
		}
		report.row(figure, model + ": successes/s ÷ min(offered, sum of budgets) (" + servable + "/s)",
				String.format(Locale.ROOT, "%.1f ± %.1f %%", goodput.mean() * 100, goodput.error() * 100), "≥ 95 %",
				Report.verdict(goodput.mean() >= 0.95));
		report.row(figure, model + ": avoidable 429s reaching the caller",
				avoidable + " of " + callerThrottled + " caller 429s", "0", Report.verdict(avoidable == 0));
		report.row(figure, model + ": served per instance (spill-over); 429s absorbed per deployment; errors",
				spread + "; " + absorbed + "; " + failed, "-", "-");
	}

	private static String budgets(List<Instance> instances, boolean chat) {
		StringBuilder budgets = new StringBuilder();
		for (Instance instance : instances) {
			budgets.append((budgets.length() > 0) ? ", " : "").append(instance.budget(chat).budget);
		}
		return "[" + budgets + "]";
	}

	/** Caller outcomes per window. */
	private static final class Counts {

		final AtomicIntegerArray ok;

		final AtomicIntegerArray throttled;

		final AtomicIntegerArray other;

		Counts(int windows) {
			this.ok = new AtomicIntegerArray(windows);
			this.throttled = new AtomicIntegerArray(windows);
			this.other = new AtomicIntegerArray(windows);
		}

		void count(int status, int window) {
			((status == 200) ? this.ok : (status == 429) ? this.throttled : this.other).incrementAndGet(window);
		}

	}

	/**
	 * One stub instance with two deployments, each its own budget; a deployment name it does not
	 * have gets a 404, so a wrong rewrite shows as errors.
	 */
	private static final class Instance {

		private final Goodput.BudgetStub chat;

		private final String chatPath;

		private final Goodput.BudgetStub embeddings;

		private final String embeddingsPath;

		Instance(Goodput.BudgetStub chat, String chatName, Goodput.BudgetStub embeddings, String embeddingName) {
			this.chat = chat;
			this.chatPath = "/openai/deployments/" + chatName + "/chat/completions";
			this.embeddings = embeddings;
			this.embeddingsPath = "/openai/deployments/" + embeddingName + "/embeddings";
		}

		Goodput.BudgetStub budget(boolean chat) {
			return chat ? this.chat : this.embeddings;
		}

		void startAt(long firstWindow) {
			this.chat.firstWindow = firstWindow;
			this.embeddings.firstWindow = firstWindow;
		}

		org.reactivestreams.Publisher<Void> answer(HttpServerRequest request, HttpServerResponse response) {
			String uri = request.uri();
			String path = (uri.indexOf('?') >= 0) ? uri.substring(0, uri.indexOf('?')) : uri;
			if (path.equals(this.chatPath)) {
				return this.chat.answer(response, Stub.COMPLETION);
			}
			if (path.equals(this.embeddingsPath)) {
				return this.embeddings.answer(response, EMBEDDING_ANSWER);
			}
			return response.status(HttpResponseStatus.NOT_FOUND).send(Mono.just(Unpooled.EMPTY_BUFFER));
		}

	}

}
