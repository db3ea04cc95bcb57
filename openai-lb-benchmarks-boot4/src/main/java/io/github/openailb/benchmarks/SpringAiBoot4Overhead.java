package io.github.openailb.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.springframework.ai.chat.client.ChatClient;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;

/**
 * Figure 2's Spring AI row on the Boot 4 line: a {@link ChatClient} over Spring AI 2's
 * {@code OpenAiChatModel} (the OpenAI Java SDK in its Azure mode, over OkHttp), as an application
 * gets it from auto-configuration: balanced by the starter across three backends that are the same
 * instant stub, against the same application with {@code openai.lb.enabled=false} and the SDK
 * pointed straight at the stub, in interleaved rounds of closed-loop load.
 * <p>
 * {@code java -jar openai-lb-benchmarks-boot4/target/openai-lb-benchmarks-boot4.jar [--quick]}, or
 * {@code --profile balanced|direct <seconds>} to load one side alone (for a profiler attached to the
 * run).
 */
public final class SpringAiBoot4Overhead {

	private static final int CONCURRENCY = 16;

	private static final String KEY = "bench-key";

	private SpringAiBoot4Overhead() {
	}

	/**
	 * Run the figure and print its rows.
	 * @param args {@code --quick} for short rounds
	 * @throws Exception when the stub or a call fails
	 */
	public static void main(String[] args) throws Exception {
		double scale = (args.length > 0 && args[0].equals("--quick")) ? 0.2 : 1.0;
		Report report = new Report();
		try (Stub stub = Stub.ok();
				ConfigurableApplicationContext balanced = start(backends(stub, 3),
						"--spring.ai.openai.microsoft-deployment-name=gpt-4o");
				ConfigurableApplicationContext direct = start(List.of("--openai.lb.enabled=false",
						"--spring.ai.openai.base-url=" + stub.url(), "--spring.ai.openai.api-key=" + KEY,
						"--spring.ai.openai.chat.model=gpt-4o", "--spring.ai.openai.max-retries=0"),
						"--spring.ai.openai.microsoft-deployment-name=gpt-4o");
				LoadDriver driver = new LoadDriver(CONCURRENCY)) {
			ChatClient balancedChat = balanced.getBean(ChatClient.Builder.class).build();
			ChatClient directChat = direct.getBean(ChatClient.Builder.class).build();
			System.out.printf(Locale.ROOT,
					"%nSpring AI 2 ChatClient over the OpenAI SDK (Azure mode, OkHttp), Boot 4, instant stub, concurrency %d:%n",
					CONCURRENCY);
			if (args.length == 3 && args[0].equals("--profile")) {
				ChatClient chat = args[1].equals("direct") ? directChat : balancedChat;
				LoadDriver.Result result = driver.blocking(Duration.ofSeconds(Long.parseLong(args[2])), () -> call(chat));
				System.out.printf(Locale.ROOT, "%s alone: %.0f/s p50 %.0f µs p99 %.0f µs%n", args[1],
						result.throughput(), result.micros(50), result.micros(99));
				return;
			}
			// the SDK and Spring AI are a deep stack: warm both paths up well
			Duration round = Duration.ofMillis((long) (1500 * scale));
			Rounds.compare(report, "2. Spring AI ChatClient, Boot 4 (instant stub)", scale, 6, 3,
					() -> driver.blocking(round, () -> call(directChat)),
					() -> driver.blocking(round, () -> call(balancedChat)));
		}
		System.out.println();
		System.out.print(report.markdown());
	}

	/** Backends that are all the same stub, each with the key, as {@code openai.lb.backends[*]}. */
	private static List<String> backends(Stub stub, int count) {
		List<String> args = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			String prefix = "--openai.lb.backends[" + i + "].";
			args.add(prefix + "name=" + (char) ('a' + i));
			args.add(prefix + "url=" + stub.url());
			args.add(prefix + "api-key=" + KEY);
		}
		return args;
	}

	private static ConfigurableApplicationContext start(List<String> args, String deployment) {
		List<String> all = new ArrayList<>(args);
		all.addAll(List.of(deployment, "--logging.level.root=WARN", "--spring.main.banner-mode=off"));
		SpringApplication application = new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.build();
		return application.run(all.toArray(String[]::new));
	}

	private static void call(ChatClient chat) {
		String content = chat.prompt().user("Say hello in one short sentence.").call().content();
		if (content == null || content.isEmpty()) {
			throw new IllegalStateException("no content");
		}
	}

	/** The application: auto-configuration only, as a fresh Spring AI application has. */
	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class App {

	}

}
