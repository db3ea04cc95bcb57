package io.github.openailb.demo;

import java.util.Map;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.stereotype.Component;

/**
 * {@code --demo.burst=N}: fires N calls at {@code demo.burst-concurrency} at start-up, chat or, for
 * {@code demo.burst-embeddings} percent of them, embeddings; prints where they went, then exits
 * (unless {@code --demo.burst-exit=false}).
 */
@Component
class BurstRunner implements ApplicationRunner {

	private final Burst burst;

	private final ConfigurableApplicationContext context;

	private final int count;

	private final int concurrency;

	private final int embeddingShare;

	private final boolean exit;

	BurstRunner(Burst burst, ConfigurableApplicationContext context, @Value("${demo.burst:0}") int count,
			@Value("${demo.burst-concurrency:20}") int concurrency,
			@Value("${demo.burst-embeddings:0}") int embeddingShare, @Value("${demo.burst-exit:true}") boolean exit) {
		this.burst = burst;
		this.context = context;
		this.count = count;
		this.concurrency = concurrency;
		this.embeddingShare = Math.max(0, Math.min(100, embeddingShare));
		this.exit = exit;
	}

	@Override
	public void run(ApplicationArguments args) {
		if (this.count <= 0) {
			return;
		}
		Burst.Report report = this.burst.fire(this.count, this.concurrency, this.embeddingShare);
		StringBuilder out = new StringBuilder();
		out.append(String.format("%nBurst of %d calls (%d chat, %d embeddings), %d at a time, in %d ms%n",
				report.calls(), report.calls() - report.embeddings(), report.embeddings(), this.concurrency,
				report.millis()));
		out.append(String.format("  answered: %d   throttled (429): %d   failed: %d%n", report.answered(),
				report.throttled(), report.failed()));
		out.append("  replies per backend:\n");
		for (Map.Entry<String, Long> entry : report.servedBy().entrySet()) {
			out.append(String.format("    %-10s %5d  %s%n", entry.getKey(), entry.getValue(),
					"#".repeat((int) Math.min(60, entry.getValue() * 60 / Math.max(1, report.calls())))));
		}
		if (!report.servedByDeployment().isEmpty()) {
			out.append("  replies per deployment:\n");
			report.servedByDeployment()
				.forEach((deployment, replies) -> out.append(String.format("    %-34s %5d%n", deployment, replies)));
		}
		System.out.println(out);
		if (this.exit) {
			System.exit(SpringApplication.exit(this.context, () -> (report.failed() > 0) ? 1 : 0));
		}
	}

}
