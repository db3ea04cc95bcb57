package io.github.openailb.benchmarks;

import java.time.Clock;
import java.time.Duration;
import java.util.Locale;

import com.azure.ai.openai.OpenAIClientBuilder;
import com.azure.core.http.HttpClient;
import com.azure.core.http.HttpHeaderName;
import com.azure.core.http.HttpHeaders;
import com.azure.core.http.policy.AddHeadersPolicy;
import com.azure.core.http.policy.ExponentialBackoffOptions;
import com.azure.core.http.policy.RetryOptions;
import com.azure.core.http.netty.NettyAsyncHttpClientBuilder;
import io.github.openailb.azure.BalancingAzureHttpClient;
import io.github.openailb.transport.BalancingClientHttpConnector;
import reactor.netty.resources.ConnectionProvider;

import org.springframework.ai.azure.openai.AzureOpenAiChatModel;
import org.springframework.ai.azure.openai.AzureOpenAiChatOptions;
import org.springframework.ai.chat.client.ChatClient;

/**
 * Figure 2, Spring AI: a {@link ChatClient} over {@link AzureOpenAiChatModel} whose Azure SDK
 * client sends through the balancer, against the same SDK client pointed straight at the stub
 * with its default Reactor Netty HTTP client (same pool size), in interleaved rounds.
 */
final class SpringAiOverhead {

	private SpringAiOverhead() {
	}

	static void run(Report report, double scale) throws Exception {
		ConnectionProvider pool = ConnectionProvider.builder("bench-azure").maxConnections(500).build();
		try (Stub stub = Stub.ok();
				Clients clients = new Clients(Clients.config(new String[] { "a", "b", "c" },
						new String[] { stub.url(), stub.url(), stub.url() }, new int[] { 1, 1, 1 }).build(),
						Clock.systemUTC());
				LoadDriver driver = new LoadDriver(ClientOverhead.CONCURRENCY)) {
			HttpClient netty = new NettyAsyncHttpClientBuilder(reactor.netty.http.client.HttpClient.create(pool)).build();
			// the direct client sends the key itself; through the balancer each backend's key is set
			ChatClient direct = chatClient(stub.url(), netty, true);
			ChatClient balanced = chatClient(BalancingClientHttpConnector.BASE_URL,
					new BalancingAzureHttpClient(clients.connector), false);
			Duration round = Duration.ofMillis((long) (1500 * scale));
			LoadDriver.BlockingCall directCall = () -> call(direct);
			LoadDriver.BlockingCall balancedCall = () -> call(balanced);
			System.out.printf(Locale.ROOT, "%nSpring AI ChatClient over the Azure SDK, instant stub, concurrency %d:%n",
					ClientOverhead.CONCURRENCY);
			// the SDK and Spring AI are a deep stack: warm both paths up well
			for (int i = 0; i < 3; i++) {
				driver.blocking(round, directCall);
				driver.blocking(round, balancedCall);
			}
			Samples ratio = new Samples();
			Samples addedP50 = new Samples();
			Samples addedP99 = new Samples();
			Samples directRate = new Samples();
			Samples directP50 = new Samples();
			Samples directP99 = new Samples();
			for (int i = 0; i < Math.max(2, Math.round(6 * Math.min(1, scale * 2))); i++) {
				LoadDriver.Result d;
				LoadDriver.Result b;
				if (i % 2 == 0) {
					d = driver.blocking(round, directCall);
					b = driver.blocking(round, balancedCall);
				}
				else {
					b = driver.blocking(round, balancedCall);
					d = driver.blocking(round, directCall);
				}
				ratio.add(b.throughput() / d.throughput());
				addedP50.add(b.micros(50) - d.micros(50));
				addedP99.add(b.micros(99) - d.micros(99));
				directRate.add(d.throughput());
				directP50.add(d.micros(50));
				directP99.add(d.micros(99));
				System.out.printf(Locale.ROOT,
						"  round %d: direct %.0f/s p50 %.0f µs p99 %.0f µs | balanced %.0f/s p50 %.0f µs p99 %.0f µs%n",
						i + 1, d.throughput(), d.micros(50), d.micros(99), b.throughput(), b.micros(50), b.micros(99));
			}
			String figure = "2. Spring AI ChatClient (instant stub)";
			report.row(figure, "direct: calls/s, p50, p99 (µs)",
					directRate.format(0) + " /s, " + directP50.format(0) + ", " + directP99.format(0), "-", "baseline");
			report.row(figure, "throughput ratio balanced/direct", ratio.format(3), "≥ 0.97",
					Report.verdict(ratio.mean() >= 0.97));
			report.row(figure, "added p50 latency", addedP50.format(1) + " µs", "< 50 µs",
					Report.verdict(addedP50.mean() < 50));
			report.row(figure, "added p99 latency", addedP99.format(1) + " µs", "< 200 µs",
					Report.verdict(addedP99.mean() < 200));
		}
		finally {
			pool.dispose();
		}
	}

	/**
	 * As the auto-configuration builds it: no SDK credential (its key policy refuses plain http)
	 * and no SDK retries.
	 */
	private static ChatClient chatClient(String endpoint, HttpClient http, boolean sendKey) {
		OpenAIClientBuilder sdk = new OpenAIClientBuilder().endpoint(endpoint)
			.httpClient(http)
			.retryOptions(new RetryOptions(new ExponentialBackoffOptions().setMaxRetries(0)));
		if (sendKey) {
			sdk.addPolicy(new AddHeadersPolicy(new HttpHeaders().set(HttpHeaderName.fromString("api-key"), Clients.KEY)));
		}
		AzureOpenAiChatModel model = AzureOpenAiChatModel.builder()
			.openAIClientBuilder(sdk)
			.defaultOptions(AzureOpenAiChatOptions.builder().deploymentName("gpt-4o").build())
			.build();
		return ChatClient.create(model);
	}

	private static void call(ChatClient chat) {
		String content = chat.prompt().user("Say hello in one short sentence.").call().content();
		if (content == null || content.isEmpty()) {
			throw new IllegalStateException("no content");
		}
	}

}
