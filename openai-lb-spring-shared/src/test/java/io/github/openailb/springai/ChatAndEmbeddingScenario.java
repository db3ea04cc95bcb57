package io.github.openailb.springai;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.github.openailb.core.BackendState;
import io.github.openailb.core.LoadBalancer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Issue #15 on loopback: one application with a chat model and an embedding model over two
 * backends that name their deployments differently. Backend {@code a} maps {@code gpt-4o → chat-a}
 * and {@code emb → emb-a}; backend {@code b} maps only {@code gpt-4o → chat-b}. What each backend
 * received (deployment from the path, or the body's {@code model} on the {@code /v1} API) is the
 * evidence. Each Boot line's Spring AI flavours extend this with their own models.
 */
abstract class ChatAndEmbeddingScenario {

	private static final Pattern DEPLOYMENT_PATH = Pattern.compile("/openai/deployments/([^/]+)/");

	private static final Pattern BODY_MODEL = Pattern.compile("\"model\"\\s*:\\s*\"([^\"]+)\"");

	private final ChatBackends backends = new ChatBackends();

	private WireMockServer a;

	private WireMockServer b;

	private ConfigurableApplicationContext context;

	/** The URL of a backend as {@code openai.lb.backends[i].url}, e.g. with {@code /v1}. */
	abstract String backendUrl(WireMockServer server);

	/**
	 * The line's properties: the chat model asks for {@code gpt-4o}, the embedding model for
	 * {@code emb}, and the backends' key style where it is not Azure's.
	 */
	abstract List<String> modelArgs();

	/** A chat call through the line's chat model asking for {@code model}; its answer's text. */
	abstract String chat(ConfigurableApplicationContext context, String model);

	/** An embedding call through the line's embedding model; its vector. */
	abstract float[] embed(ConfigurableApplicationContext context);

	@AfterEach
	void close() {
		this.backends.close();
	}

	private void start(String... extra) {
		this.a = this.backends.start();
		this.b = this.backends.start();
		serveBoth(this.a, "from-a", 0.5f);
		serveBoth(this.b, "from-b", 0.25f);
		List<String> args = new ArrayList<>(List.of("--openai.lb.backends[0].name=a",
				"--openai.lb.backends[0].url=" + backendUrl(this.a), "--openai.lb.backends[0].api-key=key-a",
				"--openai.lb.backends[0].deployments.gpt-4o=chat-a", "--openai.lb.backends[0].deployments.emb=emb-a",
				"--openai.lb.backends[1].name=b", "--openai.lb.backends[1].url=" + backendUrl(this.b),
				"--openai.lb.backends[1].api-key=key-b", "--openai.lb.backends[1].deployments.gpt-4o=chat-b"));
		args.addAll(modelArgs());
		args.addAll(List.of(extra));
		this.context = this.backends.run(args.toArray(String[]::new));
	}

	/** Answers chat and embeddings alike, so that only the balancer decides who gets what. */
	private static void serveBoth(WireMockServer server, String content, float value) {
		server.stubFor(post(urlPathMatching(".*/chat/completions")).willReturn(okJson(ChatBackends.completion(content))));
		server.stubFor(post(urlPathMatching(".*/embeddings")).willReturn(okJson(ChatBackends.embedding(value))));
	}

	@Test
	void embeddingsOnlyEverReachTheBackendThatMapsThem() {
		// b would take nearly all traffic by weight: only the map keeps embeddings off it
		start("--openai.lb.backends[1].weight=50");
		for (int i = 0; i < 10; i++) {
			assertThat(embed(this.context)).containsExactly(0.5f);
			assertThat(chat(this.context, "gpt-4o")).isIn("from-a", "from-b");
		}
		assertThat(received(this.a)).filteredOn((deployment) -> !deployment.startsWith("chat")).hasSize(10)
			.containsOnly("emb-a");
		assertThat(received(this.a)).isSubsetOf("emb-a", "chat-a");
		assertThat(received(this.b)).isNotEmpty().containsOnly("chat-b");
	}

	@Test
	void aChat429OnASendsChatToBWhileEmbeddingsKeepGoingToA() {
		start("--openai.lb.backends[1].priority=2");
		this.a.stubFor(post(urlPathMatching(".*/chat/completions"))
			.willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		assertThat(chat(this.context, "gpt-4o")).isEqualTo("from-b");
		assertThat(embed(this.context)).containsExactly(0.5f);
		assertThat(chat(this.context, "gpt-4o")).isEqualTo("from-b");
		assertThat(embed(this.context)).containsExactly(0.5f);
		// a's chat deployment cools down alone: it was asked once, its embeddings every time
		assertThat(received(this.a)).containsExactly("chat-a", "emb-a", "emb-a");
		assertThat(received(this.b)).containsExactly("chat-b", "chat-b");
		LoadBalancer balancer = this.context.getBean(LoadBalancer.class);
		assertThat(balancer.backend("a").deployment("gpt-4o").state()).isEqualTo(BackendState.COOLING_DOWN);
		assertThat(balancer.backend("a").deployment("emb").state()).isEqualTo(BackendState.AVAILABLE);
		assertThat(balancer.backend("a").state()).isEqualTo(BackendState.AVAILABLE);
	}

	@Test
	void aModelNoBackendListsFailsAtOnceNamingItAndNoBackendIsCalled() {
		start();
		Throwable failure = catchThrowable(() -> chat(this.context, "gpt-5-unlisted"));
		assertThat(failure).isNotNull();
		assertThat(messages(failure)).contains("no backend serves the model 'gpt-5-unlisted'");
		assertThat(this.a.getAllServeEvents()).isEmpty();
		assertThat(this.b.getAllServeEvents()).isEmpty();
	}

	/** The deployment of each request a backend received, oldest first. */
	private static List<String> received(WireMockServer server) {
		List<String> deployments = new ArrayList<>();
		server.getAllServeEvents().forEach((event) -> deployments.add(0, deployment(event.getRequest())));
		return deployments;
	}

	private static String deployment(LoggedRequest request) {
		Matcher path = DEPLOYMENT_PATH.matcher(request.getUrl());
		if (path.find()) {
			return path.group(1);
		}
		Matcher body = BODY_MODEL.matcher(request.getBodyAsString());
		if (body.find()) {
			return body.group(1);
		}
		throw new AssertionError("no deployment in " + request.getUrl());
	}

	/** Every message of the failure and its causes: the clients wrap the answer differently. */
	private static String messages(Throwable failure) {
		StringBuilder all = new StringBuilder();
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			all.append(cause.getMessage()).append('\n');
		}
		return all.toString();
	}

}
