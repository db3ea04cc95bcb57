package io.github.openailb.demo.boot4;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.stereotype.Component;

/**
 * {@code --demo.burst=N}: fires N calls, 20 at a time, at start-up, chat or, for
 * {@code demo.burst-embeddings} percent of them, embeddings; prints which instance answered how
 * many chats and how many embeddings were answered, then exits (unless
 * {@code --demo.burst-exit=false}).
 */
@Component
class BurstRunner implements ApplicationRunner {

	private static final Pattern SERVED_BY = Pattern.compile("Hello from ([\\w-]+)!");

	private final ChatClient chat;

	private final EmbeddingModel embeddings;

	private final ConfigurableApplicationContext context;

	private final int count;

	private final int embeddingShare;

	private final boolean exit;

	BurstRunner(ChatClient chat, EmbeddingModel embeddings, ConfigurableApplicationContext context,
			@Value("${demo.burst:0}") int count, @Value("${demo.burst-embeddings:0}") int embeddingShare,
			@Value("${demo.burst-exit:true}") boolean exit) {
		this.chat = chat;
		this.embeddings = embeddings;
		this.context = context;
		this.count = count;
		this.embeddingShare = Math.max(0, Math.min(100, embeddingShare));
		this.exit = exit;
	}

	@Override
	public void run(ApplicationArguments args) throws Exception {
		if (this.count <= 0) {
			return;
		}
		Report report = fire(this.count, this.embeddingShare);
		System.out.printf("%nBurst of %d calls: answered %d (%d embeddings), failed %d%n", this.count,
				report.answered(), report.embedded(), report.failed());
		report.servedBy().forEach((name, replies) -> System.out.printf("  %-8s %4d  %s%n", name, replies,
				"#".repeat((int) Math.min(60, replies * 60L / this.count))));
		if (this.exit) {
			System.exit(SpringApplication.exit(this.context, () -> (report.failed() > 0) ? 1 : 0));
		}
	}

	/** Fire chat calls only and count, per instance, the replies it served. */
	Report fire(int calls) throws Exception {
		return fire(calls, 0);
	}

	/**
	 * Fire the calls, {@code embeddingShare} percent of them embeddings (spread evenly), and count,
	 * per instance, the chat replies it served.
	 */
	Report fire(int calls, int embeddingShare) throws Exception {
		Map<String, Integer> servedBy = new ConcurrentHashMap<>();
		AtomicInteger failed = new AtomicInteger();
		AtomicInteger embedded = new AtomicInteger();
		ExecutorService pool = Executors.newFixedThreadPool(20);
		try {
			java.util.List<Future<?>> all = new java.util.ArrayList<>();
			for (int i = 0; i < calls; i++) {
				// the i-th call embeds when the running share of embeddings steps up here
				boolean embed = (i + 1) * embeddingShare / 100 > i * embeddingShare / 100;
				all.add(pool.submit(() -> {
					try {
						if (embed) {
							this.embeddings.embed("hi");
							embedded.incrementAndGet();
							return;
						}
						Matcher matcher = SERVED_BY.matcher(this.chat.prompt("hi").call().content());
						servedBy.merge(matcher.find() ? matcher.group(1) : "?", 1, Integer::sum);
					}
					catch (RuntimeException ex) {
						failed.incrementAndGet();
					}
				}));
			}
			for (Future<?> call : all) {
				call.get();
			}
		}
		finally {
			pool.shutdown();
		}
		return new Report(new TreeMap<>(servedBy), calls - failed.get(), embedded.get(), failed.get());
	}

	/**
	 * What a burst did.
	 * @param servedBy replies per instance
	 * @param answered calls answered
	 * @param embedded embeddings calls answered
	 * @param failed calls that failed
	 */
	record Report(Map<String, Integer> servedBy, int answered, int embedded, int failed) {
	}

}
