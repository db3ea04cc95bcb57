package io.github.openailb.core;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link StatefulRequests}: which requests are tied to state one backend holds.
 */
class StatefulRequestsTests {

	@ParameterizedTest(name = "{0} {1} {2} -> {3}")
	@CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
			POST   | /openai/files?api-version=2024-10-21                        | ``   | true
			GET    | /openai/files/file-abc123?api-version=2024-10-21            | ``   | true
			DELETE | /openai/v1/files/file-abc123                                | ``   | true
			GET    | /v1/files/file-abc123/content                               | ``   | true
			POST   | /files                                                      | ``   | true
			GET    | /OpenAI/V1/Files/file-abc                                   | ``   | true
			POST   | /openai/batches?api-version=2024-10-21                      | ``   | true
			POST   | /openai/v1/batches/batch_1/cancel                           | ``   | true
			POST   | /openai/uploads/upload_1/parts                              | ``   | true
			POST   | /openai/assistants                                          | ``   | true
			POST   | /openai/threads/thread_1/runs?api-version=2024-05-01-preview | ``  | true
			GET    | /v1/vector_stores/vs_1/files                                | ``   | true
			POST   | /openai/fine_tuning/jobs                                    | ``   | true
			GET    | /openai/fine-tunes/ft-1                                     | ``   | true
			POST   | /v1/conversations                                           | ``   | true
			POST   | /v1/containers                                              | ``   | true
			POST   | /v1/realtime/client_secrets                                 | ``   | true
			POST   | /v1/evals/eval_1/runs                                       | ``   | true
			GET    | /v1/videos/video_1                                          | ``   | true
			GET    | /openai/v1/responses/resp_1                                 | ``   | true
			DELETE | /openai/v1/responses/resp_1?api-version=preview             | ``   | true
			POST   | /v1/responses/resp_1/cancel                                 | ``   | true
			GET    | /v1/responses/resp_1/input_items                            | ``   | true
			POST   | /openai/deployments/gpt-4o/chat/completions?api-version=x   | {}   | false
			POST   | /openai/v1/chat/completions                                 | {}   | false
			POST   | /v1/chat/completions?x=/files                               | {}   | false
			POST   | /openai/v1/embeddings                                       | {}   | false
			POST   | /openai/deployments/emb/embeddings?api-version=x            | {}   | false
			POST   | /v1/completions                                             | {}   | false
			POST   | /v1/images/generations                                      | {}   | false
			POST   | /v1/audio/transcriptions                                    | {}   | false
			GET    | /openai/v1/models                                           | ``   | false
			GET    | /openai/models/files                                        | ``   | false
			GET    | /filesystem                                                 | ``   | false
			GET    | /openai/v1x/files                                           | ``   | false
			GET    | /v2/files                                                   | ``   | false
			GET    | ''                                                          | ``   | false
			GET    | /                                                           | ``   | false
			""")
	void classifiesByPath(String method, String path, String body, boolean stateful) {
		String realPath = path.equals("''") ? "" : path;
		assertThat(StatefulRequests.isStateful(method, realPath, body.getBytes(StandardCharsets.UTF_8)))
			.isEqualTo(stateful);
	}

	@ParameterizedTest(name = "{0} -> {1}")
	@CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
			{"model":"gpt-4o","input":"hi","store":false}                                      | false
			{ "store" : false , "model":"gpt-4o", "input": [{"role":"user","content":"hi"}] }  | false
			{"model":"gpt-4o","input":"hi"}                                                    | true
			{"model":"gpt-4o","input":"hi","store":true}                                       | true
			{"store":false,"previous_response_id":"resp_1","input":"more"}                     | true
			{"store":false,"previous_response_id":null,"input":"more"}                         | false
			{"store":false,"conversation":"conv_1"}                                            | true
			{"store":false,"conversation":{"id":"conv_1"}}                                     | true
			{"store":false,"conversation":null}                                                | false
			{"store":false,"metadata":{"previous_response_id":"resp_1","store":true}}          | false
			{"store":false,"input":"\\"previous_response_id\\": \\"resp_1\\", {\\"store\\":true}"} | false
			{"store":false,"input":[{"content":"}]{[\\""}],"tools":[]}                         | false
			{"input":"hi","store":"false"}                                                     | true
			not json                                                                           | false
			{"store":false,"input":                                                            | false
			{"store" false}                                                                    | false
			[{"previous_response_id":"resp_1"}]                                                | false
			``                                                                                 | false
			""")
	void judgesAResponsesPostByItsTopLevel(String body, boolean stateful) {
		byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
		assertThat(StatefulRequests.isStateful("POST", "/openai/v1/responses", bytes)).isEqualTo(stateful);
		assertThat(StatefulRequests.isStateful("POST", "/openai/responses?api-version=2025-04-01-preview", bytes))
			.isEqualTo(stateful);
		assertThat(StatefulRequests.isStateful("POST", "/v1/responses", bytes)).isEqualTo(stateful);
		// the body of any other API is never read
		assertThat(StatefulRequests.isStateful("POST", "/v1/chat/completions", bytes)).isFalse();
	}

}
