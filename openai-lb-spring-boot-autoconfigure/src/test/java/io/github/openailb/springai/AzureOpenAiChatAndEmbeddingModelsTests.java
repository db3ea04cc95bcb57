package io.github.openailb.springai;

import java.util.List;

import com.github.tomakehurst.wiremock.WireMockServer;

import org.springframework.ai.azure.openai.AzureOpenAiChatModel;
import org.springframework.ai.azure.openai.AzureOpenAiChatOptions;
import org.springframework.ai.azure.openai.AzureOpenAiEmbeddingModel;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * {@link ChatAndEmbeddingScenario} with Spring AI's {@link AzureOpenAiChatModel} and
 * {@link AzureOpenAiEmbeddingModel}: one Azure SDK client builder for both, the deployment in the
 * path.
 */
class AzureOpenAiChatAndEmbeddingModelsTests extends ChatAndEmbeddingScenario {

	@Override
	String backendUrl(WireMockServer server) {
		return server.baseUrl();
	}

	@Override
	List<String> modelArgs() {
		return List.of("--spring.ai.azure.openai.chat.options.deployment-name=gpt-4o",
				"--spring.ai.azure.openai.embedding.options.deployment-name=emb");
	}

	@Override
	String chat(ConfigurableApplicationContext context, String model) {
		return ChatClient.create(context.getBean(AzureOpenAiChatModel.class))
			.prompt("hi")
			.options(AzureOpenAiChatOptions.builder().deploymentName(model).build())
			.call()
			.content();
	}

	@Override
	float[] embed(ConfigurableApplicationContext context) {
		return context.getBean(AzureOpenAiEmbeddingModel.class).embed("hi");
	}

}
