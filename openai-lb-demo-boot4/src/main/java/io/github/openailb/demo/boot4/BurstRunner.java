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
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.stereotype.Component;

/**
 * {@code --demo.burst=N}: fires N chat calls, 20 at a time, at start-up, prints which instance
 * answered how many, then exits (unless {@code --demo.burst-exit=false}).
 */
@Component
class BurstRunner implements ApplicationRunner {

	private static final Pattern SERVED_BY = Pattern.compile("Hello from ([\\w-]+)!");

	private final ChatClient chat;

	private final ConfigurableApplicationContext context;

	private final int count;

	private final boolean exit;

	BurstRunner(ChatClient chat, ConfigurableApplicationContext context, @Value("${demo.burst:0}") int count,
			@Value("${demo.burst-exit:true}") boolean exit) {
		this.chat = chat;
		this.context = context;
		this.count = count;
		this.exit = exit;
	}

	@Override
	public void run(ApplicationArguments args) throws Exception {
		if (this.count <= 0) {
			return;
		}
		Report report = fire(this.count);
		System.out.printf("%nBurst of %d chat calls: answered %d, failed %d%n", this.count, report.answered(),
				report.failed());
		report.servedBy().forEach((name, replies) -> System.out.printf("  %-8s %4d  %s%n", name, replies,
				"#".repeat((int) Math.min(60, replies * 60L / this.count))));
		if (this.exit) {
			System.exit(SpringApplication.exit(this.context, () -> (report.failed() > 0) ? 1 : 0));
		}
	}

	/** Fire the calls and count, per instance, the replies it served. */
	Report fire(int calls) throws Exception {
		Map<String, Integer> servedBy = new ConcurrentHashMap<>();
		AtomicInteger failed = new AtomicInteger();
		ExecutorService pool = Executors.newFixedThreadPool(20);
		try {
			java.util.List<Future<?>> all = new java.util.ArrayList<>();
			for (int i = 0; i < calls; i++) {
				all.add(pool.submit(() -> {
					try {
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
		return new Report(new TreeMap<>(servedBy), calls - failed.get(), failed.get());
	}

	/**
	 * What a burst did.
	 * @param servedBy replies per instance
	 * @param answered calls answered
	 * @param failed calls that failed
	 */
	record Report(Map<String, Integer> servedBy, int answered, int failed) {
	}

}
