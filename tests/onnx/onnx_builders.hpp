// Small builders for ONNX graphs written by the import tests (one copy for every test file).
#pragma once
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mixprec::test {

// A float initializer with these dims and values.
inline onnx::TensorProto float_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                                      const std::vector<float>& v) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) t.add_dims(d);
  for (float x : v) t.add_float_data(x);
  return t;
}

// A graph input / output / value_info entry: a tensor of `type` with static dims.
inline void value_info(onnx::ValueInfoProto* v, const std::string& name, const std::vector<std::int64_t>& dims,
                       int type = onnx::TensorProto::FLOAT) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(type);
  for (auto d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
}

}  // namespace mixprec::test
