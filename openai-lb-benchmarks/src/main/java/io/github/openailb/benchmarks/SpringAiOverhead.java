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
			LoadDriver.BlockingCall directCall = () -> call(direct);
			LoadDriver.BlockingCall balancedCall = () -> call(balanced);
			System.out.printf(Locale.ROOT, "%nSpring AI ChatClient over the Azure SDK, instant stub, concurrency %d:%n",
					ClientOverhead.CONCURRENCY);
			// the SDK and Spring AI are a deep stack: warm both paths up well
			Duration round = Duration.ofMillis((long) (1500 * scale));
			Rounds.compare(report, "2. Spring AI ChatClient (instant stub)", scale, 6, 3,
					() -> driver.blocking(round, directCall), () -> driver.blocking(round, balancedCall));
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
