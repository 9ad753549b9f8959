// The tradeoff graph: quality@k against configs benchmarked per problem, as SVG.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "gemmsift/metrics.h"

namespace gemmsift {

namespace {

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

}  // namespace

std::string tradeoff_svg(const std::vector<MethodQuality>& methods, const std::string& title) {
  const double W = 900, H = 480, left = 70, right = 310, top = 50, bottom = 60;
  const double pw = W - left - right, ph = H - top - bottom;
  double kmax = 20, qmin = 1.0;
  for (const auto& m : methods) {
    for (const auto& a : m.at) {
      kmax = std::max(kmax, a.k == 0 ? a.mean_configs : static_cast<double>(a.k));
      qmin = std::min(qmin, a.quality);
    }
  }
  qmin = std::max(0.0, std::floor(qmin * 10) / 10);
  if (qmin > 0.9) qmin = 0.9;
  const double lx0 = 0, lx1 = std::log2(kmax * 1.15);
  auto X = [&](double k) { return left + (std::log2(std::max(1.0, k)) - lx0) / (lx1 - lx0) * pw; };
  auto Y = [&](double q) { return top + (1.0 - (q - qmin) / (1.0 - qmin)) * ph; };
  static const char* colors[] = {"#444444", "#999999", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      W, H, W, H);
  s += fmt::format("<text x=\"{}\" y=\"24\" font-size=\"14\" font-weight=\"bold\">{}</text>\n", left, escape(title));
  // Grid and axes.
  for (int i = 0; i <= 10; ++i) {
    const double q = qmin + (1.0 - qmin) * i / 10.0;
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e5e5e5\"/>\n", left, Y(q),
                     left + pw, Y(q));
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{:.2f}</text>\n", left - 6, Y(q) + 4, q);
  }
  for (double k : {1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0}) {
    if (k > kmax * 1.15) break;
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e5e5e5\"/>\n", X(k), top, X(k),
                     top + ph);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", X(k), top + ph + 18, k);
  }
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n", left, top, pw, ph);
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">configs benchmarked per problem (k, log scale)</text>\n",
                   left + pw / 2, H - 18);
  s += fmt::format("<text transform=\"translate(18,{:.1f}) rotate(-90)\" text-anchor=\"middle\">quality@k (geomean of best / chosen)</text>\n",
                   top + ph / 2);
  // Series.
  double ly = top + 10;
  for (std::size_t i = 0; i < methods.size(); ++i) {
    const auto& m = methods[i];
    const char* color = colors[i % (sizeof colors / sizeof colors[0])];
    const bool single = m.at.size() == 1 && m.at[0].k == 0;
    if (single) {
      const auto& a = m.at[0];
      const double x = X(a.mean_configs), y = Y(a.quality);
      s += fmt::format("<path d=\"M {:.1f} {:.1f} l 6 10 h -12 z\" fill=\"{}\"/>\n", x, y - 6, color);
    } else {
      std::string pts;
      for (const auto& a : m.at) pts += fmt::format("{:.1f},{:.1f} ", X(a.k), Y(std::max(qmin, a.quality)));
      const bool dashed = m.method.rfind("random", 0) == 0;
      s += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>\n", pts, color,
                       dashed ? " stroke-dasharray=\"5,4\"" : "");
      for (const auto& a : m.at) {
        s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", X(a.k), Y(std::max(qmin, a.quality)), color);
      }
    }
    s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"14\" height=\"4\" fill=\"{}\"/>\n", left + pw + 14, ly - 4, color);
    std::string label = m.method;
    // A long name loses its parenthesised part (the model file), not what follows it ("+ 2 DEFAULT anchors").
    if (auto paren = label.find(" ("); paren != std::string::npos && label.size() > 32) {
      auto close = label.find(')', paren);
      label = label.substr(0, paren) + (close == std::string::npos ? "" : label.substr(close + 1));
    }
    if (label.size() > 40) label = label.substr(0, 37) + "...";
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", left + pw + 34, ly, escape(label));
    ly += 20;
  }
  s += "</svg>\n";
  return s;
}

}  // namespace gemmsift
