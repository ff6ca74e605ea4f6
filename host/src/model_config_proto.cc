/*
 * Triton's inference.ModelConfig read and printed by libprotobuf, as Triton core does
 * (model_config_utils.cc). The schema is the descriptor of model_config.proto that the real
 * libtritonserver.so carries, extracted at build time (host/model_config_proto.py); the
 * message is a DynamicMessage of it.
 */
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include "model_config_proto.h"

namespace pb = google::protobuf;

namespace {

const unsigned char kModelConfigProto[] = {
#include "model_config_proto.inc"
};

/* The pool and factory live as long as the process: built once, thread-safe after. */
struct Schema {
  pb::DescriptorPool pool;
  pb::DynamicMessageFactory factory{&pool};
  const pb::Descriptor* config = nullptr;

  Schema()
  {
    pb::FileDescriptorProto file;
    if (file.ParseFromArray(kModelConfigProto, sizeof(kModelConfigProto)) &&
        pool.BuildFile(file) != nullptr) {
      config = pool.FindMessageTypeByName("inference.ModelConfig");
    }
  }
};

const pb::Descriptor*
ConfigType(std::unique_ptr<pb::Message>* message)
{
  static Schema schema;
  if (schema.config != nullptr) {
    message->reset(schema.factory.GetPrototype(schema.config)->New());
  }
  return schema.config;
}

char*
Malloced(const std::string& s)
{
  return strdup(s.c_str());
}

/* The first error, as "LINE:COL: message" (1-based, as Triton logs it). */
class FirstError : public pb::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override
  {
    if (text.empty()) {
      text = std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message;
    }
  }
  std::string text;
};

void FixInt64(cJSON* message, const pb::Descriptor* type);

void
FixValue(cJSON* value, const pb::FieldDescriptor* field)
{
  switch (field->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      if (cJSON_IsObject(value)) {
        FixInt64(value, field->message_type());
      }
      break;
    case pb::FieldDescriptor::CPPTYPE_INT64:
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      if (cJSON_IsString(value)) {
        double d = strtod(value->valuestring, nullptr);
        cJSON_free(value->valuestring);
        value->valuestring = nullptr;
        value->type = cJSON_Number;
        cJSON_SetNumberValue(value, d);
      }
      break;
    default:
      break;
  }
}

/* protobuf's JSON printer writes int64 as strings; Triton turns them back into numbers. */
void
FixInt64(cJSON* message, const pb::Descriptor* type)
{
  for (cJSON* item = message->child; item != nullptr; item = item->next) {
    const pb::FieldDescriptor* field = type->FindFieldByName(item->string);
    if (field == nullptr) {
      continue;
    }
    if (field->is_map()) {
      field = field->message_type()->map_value();
    } else if (!field->is_repeated()) {
      FixValue(item, field);
      continue;
    }
    for (cJSON* e = item->child; e != nullptr; e = e->next) {
      FixValue(e, field);
    }
  }
}

}  // namespace

extern "C" cJSON*
model_config_parse_text(const char* text, char** err)
{
  std::unique_ptr<pb::Message> config;
  if (ConfigType(&config) == nullptr) {
    *err = strdup("the host's copy of model_config.proto does not build");
    return nullptr;
  }
  FirstError errors;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, config.get())) {
    *err = Malloced(errors.text.empty() ? "invalid text format" : errors.text);
    return nullptr;
  }
  std::string json;
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  pb::util::Status status = pb::util::MessageToJsonString(*config, &json, options);
  if (!status.ok()) {
    *err = Malloced(status.ToString());
    return nullptr;
  }
  return cJSON_Parse(json.c_str());
}

extern "C" char*
model_config_emit(const cJSON* sparse, char** err)
{
  *err = nullptr;
  std::unique_ptr<pb::Message> config;
  const pb::Descriptor* type = ConfigType(&config);
  if (type == nullptr) {
    *err = strdup("the host's copy of model_config.proto does not build");
    return nullptr;
  }
  char* in = cJSON_PrintUnformatted(sparse);
  pb::util::Status status = pb::util::JsonStringToMessage(in, config.get());
  cJSON_free(in);
  if (!status.ok()) {
    *err = Malloced("invalid model configuration: " + std::string(status.message()));
    return nullptr;
  }
  std::string json;
  pb::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  status = pb::util::MessageToJsonString(*config, &json, options);
  cJSON* full = status.ok() ? cJSON_Parse(json.c_str()) : nullptr;
  if (full == nullptr) {
    *err = Malloced("cannot print the model configuration: " + status.ToString());
    return nullptr;
  }
  FixInt64(full, type);
  char* out = cJSON_PrintUnformatted(full);
  cJSON_Delete(full);
  return out;
}
