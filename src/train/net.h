// A small fully connected network with optional BatchNorm and ReLU, forward and backward, in Eigen
// (internal). Templated on the scalar so the tests can check the gradients in double; training
// uses float.
#pragma once

#include <Eigen/Core>

// Training must give the same bits on every x86-64 CPU for a seed: Eigen's fast math would use
// RSQRTPS, an approximation whose results differ between CPU makers (CMakeLists.txt turns it off).
#if EIGEN_FAST_MATH
#error "gemmsift's training needs EIGEN_FAST_MATH=0"
#endif

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace gemmsift::train {

template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using RowVec = Eigen::Matrix<T, 1, Eigen::Dynamic>;

template <class T>
struct Layer {
  Mat<T> W;     // out x in
  RowVec<T> b;  // out
  bool bn = false;
  bool relu = true;
  RowVec<T> gamma, beta, run_mean, run_var;
  // Gradients, same shapes as the parameters.
  Mat<T> gW;
  RowVec<T> gb, ggamma, gbeta;
  // Forward caches (training only).
  Mat<T> X, Xhat, Y;
  RowVec<T> inv_std;
};

inline constexpr double kBnEps = 1e-5;
inline constexpr double kBnMomentum = 0.1;

template <class T>
class Net {
 public:
  Net() = default;
  // He-initialised: in -> hidden[0] -> ... -> hidden.back() -> 1. With batchnorm, every hidden
  // layer is Linear, BatchNorm, ReLU (the proposal's block); without, Linear, ReLU.
  Net(int in, const std::vector<int>& hidden, bool batchnorm, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    int prev = in;
    std::vector<int> outs = hidden;
    outs.push_back(1);
    for (std::size_t i = 0; i < outs.size(); ++i) {
      Layer<T> l;
      const int out = outs[i];
      const bool last = i + 1 == outs.size();
      std::normal_distribution<double> nd(0.0, std::sqrt((last ? 1.0 : 2.0) / prev));
      l.W.resize(out, prev);
      for (Eigen::Index r = 0; r < l.W.rows(); ++r)
        for (Eigen::Index c = 0; c < l.W.cols(); ++c) l.W(r, c) = static_cast<T>(nd(rng));
      l.b = RowVec<T>::Zero(out);
      l.relu = !last;
      l.bn = batchnorm && !last;
      if (l.bn) {
        l.gamma = RowVec<T>::Ones(out);
        l.beta = RowVec<T>::Zero(out);
        l.run_mean = RowVec<T>::Zero(out);
        l.run_var = RowVec<T>::Ones(out);
      }
      layers.push_back(std::move(l));
      prev = out;
    }
  }

  // Returns one output per row. training: BatchNorm uses the batch's statistics (and updates the
  // running ones) and caches what backward() needs.
  Mat<T> forward(const Mat<T>& input, bool training) {
    Mat<T> x = input;
    for (auto& l : layers) {
      Mat<T> z = x * l.W.transpose();
      z.rowwise() += l.b;
      if (training) l.X = std::move(x);
      if (l.bn) {
        RowVec<T> mu, var;
        if (training) {
          const T n = static_cast<T>(z.rows());
          mu = z.colwise().mean();
          z.rowwise() -= mu;
          var = z.array().square().colwise().sum().matrix() / n;
          const T unbias = n > 1 ? n / (n - 1) : T(1);
          l.run_mean = (1 - T(kBnMomentum)) * l.run_mean + T(kBnMomentum) * mu;
          l.run_var = (1 - T(kBnMomentum)) * l.run_var + T(kBnMomentum) * unbias * var;
        } else {
          mu = l.run_mean;
          var = l.run_var;
          z.rowwise() -= mu;
        }
        RowVec<T> inv = (var.array() + T(kBnEps)).rsqrt().matrix();
        z = z * inv.asDiagonal();
        if (training) {
          l.Xhat = z;
          l.inv_std = inv;
        }
        z = z * l.gamma.asDiagonal();
        z.rowwise() += l.beta;
      }
      if (l.relu) z = z.cwiseMax(T(0));
      if (training) l.Y = z;
      x = std::move(z);
    }
    return x;
  }

  // dOut: gradient of the loss with respect to forward()'s output (rows x 1). Needs the caches of
  // a training forward() on the same batch.
  void backward(const Mat<T>& dOut) {
    Mat<T> d = dOut;
    for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
      auto& l = *it;
      if (l.relu) d = (l.Y.array() > T(0)).select(d, T(0));
      if (l.bn) {
        const T n = static_cast<T>(d.rows());
        l.ggamma = (d.array() * l.Xhat.array()).colwise().sum().matrix();
        l.gbeta = d.colwise().sum();
        Mat<T> dxhat = d * l.gamma.asDiagonal();
        RowVec<T> s1 = dxhat.colwise().sum();
        RowVec<T> s2 = (dxhat.array() * l.Xhat.array()).colwise().sum().matrix();
        Mat<T> t = n * dxhat;
        t.rowwise() -= s1;
        t -= l.Xhat * s2.asDiagonal();
        d = t * (l.inv_std / n).asDiagonal();
      }
      l.gW = d.transpose() * l.X;
      l.gb = d.colwise().sum();
      d = d * l.W;
    }
  }

  // Parameters and their gradients, in a fixed order.
  template <class F>
  void for_each_param(F&& f) {
    for (auto& l : layers) {
      f(l.W.data(), l.gW.data(), l.W.size());
      f(l.b.data(), l.gb.data(), l.b.size());
      if (l.bn) {
        f(l.gamma.data(), l.ggamma.data(), l.gamma.size());
        f(l.beta.data(), l.gbeta.data(), l.beta.size());
      }
    }
  }

  // The same network as plain Linear(+ReLU) layers: BatchNorm (with running statistics) folded
  // into the preceding Linear. Returns (W, b) per layer.
  std::vector<std::pair<Mat<T>, RowVec<T>>> folded() const {
    std::vector<std::pair<Mat<T>, RowVec<T>>> out;
    for (const auto& l : layers) {
      if (!l.bn) {
        out.emplace_back(l.W, l.b);
        continue;
      }
      RowVec<T> s = l.gamma.array() * (l.run_var.array() + T(kBnEps)).rsqrt();
      Mat<T> W = s.asDiagonal() * l.W;
      RowVec<T> b = (s.array() * (l.b - l.run_mean).array()).matrix() + l.beta;
      out.emplace_back(std::move(W), std::move(b));
    }
    return out;
  }

  std::vector<Layer<T>> layers;
};

// Adam with decoupled weight decay on matrices.
template <class T>
class Adam {
 public:
  Adam(Net<T>& net, double learning_rate, double weight_decay = 0) : lr(learning_rate), wd_(weight_decay) {
    net.for_each_param([&](T*, T*, Eigen::Index n) {
      m_.emplace_back(Eigen::Matrix<T, Eigen::Dynamic, 1>::Zero(n));
      v_.emplace_back(Eigen::Matrix<T, Eigen::Dynamic, 1>::Zero(n));
    });
  }
  void step(Net<T>& net) {
    ++t_;
    const double c1 = 1 - std::pow(0.9, t_), c2 = 1 - std::pow(0.999, t_);
    std::size_t i = 0;
    net.for_each_param([&](T* p, T* g, Eigen::Index n) {
      auto& m = m_[i];
      auto& v = v_[i];
      ++i;
      Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>> P(p, n), G(g, n);
      m = T(0.9) * m + T(0.1) * G;
      v = T(0.999) * v + T(0.001) * G.cwiseProduct(G);
      const T a = static_cast<T>(lr / c1);
      const T s = static_cast<T>(1 / std::sqrt(c2));
      if (wd_ > 0 && n > 1) P *= static_cast<T>(1 - lr * wd_);
      P.array() -= a * m.array() / ((v.array().sqrt() * s) + T(1e-8));
    });
  }
  double lr;

 private:
  double wd_;
  long t_ = 0;
  std::vector<Eigen::Matrix<T, Eigen::Dynamic, 1>> m_, v_;
};

}  // namespace gemmsift::train
