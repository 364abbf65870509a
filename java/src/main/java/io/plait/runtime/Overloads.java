package io.plait.runtime;

import java.lang.reflect.Array;
import java.lang.reflect.Executable;
import java.lang.reflect.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;

/**
 * Picks the method (or constructor) a call binds to, the rules java/README.md documents.
 * The candidates are every public method of the class by that name, inherited ones
 * included, one per parameter list ({@code TaskExecutor} collects them):
 *
 * <ol>
 *   <li>by argument count: fixed-arity overloads with exactly as many parameters, and
 *       varargs overloads with at least as many as their fixed part;</li>
 *   <li>by argument types: each argument's {@link Conversions#cost} to its parameter,
 *       summed; the lowest sum wins; a varargs call costs 30 more than a plain one;</li>
 *   <li>ties: the overload whose signature (e.g. {@code max(long,long)}, with parameter
 *       types' full names) sorts first, so the same call always binds the same way.</li>
 * </ol>
 *
 * Keyword arguments bind by parameter name, which Java keeps only in classes compiled with
 * {@code javac -parameters}: positional arguments fill the first parameters, every keyword
 * must name one of the rest, and together they must fill all of them. For a class compiled
 * without {@code -parameters} (the JDK's own) keyword arguments are an error that says so.
 */
final class Overloads {
  static final int VARARGS_PENALTY = 30;

  /** The chosen executable and its converted arguments. */
  static final class Binding {
    final Executable target;
    final Object[] args;

    Binding(Executable target, Object[] args) {
      this.target = target;
      this.args = args;
    }
  }

  private Overloads() {}

  /** A readable signature: {@code max(long, long)}. */
  static String signature(String name, Executable e) {
    StringBuilder sb = new StringBuilder(name).append('(');
    Class<?>[] params = e.getParameterTypes();
    for (int i = 0; i < params.length; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(e.isVarArgs() && i == params.length - 1
          ? params[i].getComponentType().getSimpleName() + "..." : params[i].getSimpleName());
    }
    return sb.append(')').toString();
  }

  private static String sortKey(Executable e) {
    StringBuilder sb = new StringBuilder(e.getName()).append('(');
    for (Class<?> p : e.getParameterTypes()) {
      sb.append(p.getTypeName()).append(',');
    }
    return sb.toString();
  }

  /**
   * Binds {@code args} (positional first, then the last {@code kwargNames.length} values as
   * keyword arguments) to one of {@code candidates}; {@code what} names the callee in
   * messages ("java.lang.Math.max"), {@code name} is the method's name.
   *
   * @throws IllegalArgumentException naming the problem when nothing binds
   */
  static Binding bind(String what, String name, List<? extends Executable> candidates,
                      List<Object> args, List<String> kwargNames) {
    List<Executable> sorted = new ArrayList<>(candidates);
    sorted.sort(Comparator.comparing(Overloads::sortKey));
    int nkw = kwargNames.size();
    int npos = args.size() - nkw;
    Binding best = null;
    int bestCost = Integer.MAX_VALUE;
    boolean arityMatched = false;
    boolean namesMissing = false;
    for (Executable e : sorted) {
      int count = e.getParameterCount();
      Object[] ordered;
      if (nkw > 0) {
        if (count != args.size()) {
          continue;
        }
        arityMatched = true;
        ordered = byName(e, args, npos, kwargNames);
        if (ordered == null) {
          namesMissing |= !e.getParameters()[0].isNamePresent();
          continue;
        }
      } else {
        ordered = args.toArray();
      }
      Class<?>[] params = e.getParameterTypes();
      if (count == ordered.length) {
        arityMatched = true;
        int c = totalCost(ordered, params, params.length);
        if (c != Conversions.NO && c < bestCost) {
          bestCost = c;
          best = new Binding(e, convertAll(ordered, params, params.length));
        }
      }
      if (e.isVarArgs() && nkw == 0 && ordered.length >= count - 1) {
        arityMatched = true;
        Class<?> component = params[count - 1].getComponentType();
        int c = totalCost(ordered, params, count - 1);
        for (int i = count - 1; i < ordered.length && c != Conversions.NO; i++) {
          int ci = Conversions.cost(ordered[i], component);
          c = ci == Conversions.NO ? Conversions.NO : c + ci;
        }
        if (c != Conversions.NO && c + VARARGS_PENALTY < bestCost) {
          bestCost = c + VARARGS_PENALTY;
          Object[] fixed = convertAll(ordered, params, count - 1);
          Object rest = Array.newInstance(component, ordered.length - (count - 1));
          for (int i = count - 1; i < ordered.length; i++) {
            Array.set(rest, i - (count - 1), Conversions.convert(ordered[i], component));
          }
          Object[] all = Arrays.copyOf(fixed, count);
          all[count - 1] = rest;
          best = new Binding(e, all);
        }
      }
    }
    if (best != null) {
      return best;
    }
    if (!arityMatched) {
      throw new IllegalArgumentException(what + " takes " + arities(sorted) + ", got "
          + args.size());
    }
    if (nkw > 0 && namesMissing) {
      throw new IllegalArgumentException("keyword arguments " + kwargNames + " cannot be "
          + "passed to " + what + ": its parameter names are not in the class file (compile "
          + "it with javac -parameters, or pass the arguments positionally)");
    }
    List<String> types = Conversions.describeAll(args.subList(0, npos));
    for (int i = 0; i < nkw; i++) {
      types.add(kwargNames.get(i) + "=" + Conversions.describe(args.get(npos + i)));
    }
    List<String> sigs = new ArrayList<>();
    for (Executable e : sorted) {
      sigs.add(signature(name, e));
    }
    throw new IllegalArgumentException("no overload of " + what + " takes ("
        + String.join(", ", types) + "); overloads: " + String.join(", ", sigs));
  }

  private static Object[] byName(Executable e, List<Object> args, int npos,
                                 List<String> kwargNames) {
    Parameter[] params = e.getParameters();
    if (params.length == 0 || !params[0].isNamePresent()) {
      return null;
    }
    Object[] out = new Object[params.length];
    boolean[] filled = new boolean[params.length];
    for (int i = 0; i < npos; i++) {
      out[i] = args.get(i);
      filled[i] = true;
    }
    for (int k = 0; k < kwargNames.size(); k++) {
      int at = -1;
      for (int i = npos; i < params.length; i++) {
        if (params[i].getName().equals(kwargNames.get(k))) {
          at = i;
        }
      }
      if (at < 0 || filled[at]) {
        return null;
      }
      out[at] = args.get(npos + k);
      filled[at] = true;
    }
    return out;
  }

  private static int totalCost(Object[] args, Class<?>[] params, int n) {
    int total = 0;
    for (int i = 0; i < n; i++) {
      int c = Conversions.cost(args[i], params[i]);
      if (c == Conversions.NO) {
        return Conversions.NO;
      }
      total += c;
    }
    return total;
  }

  private static Object[] convertAll(Object[] args, Class<?>[] params, int n) {
    Object[] out = new Object[n];
    for (int i = 0; i < n; i++) {
      out[i] = Conversions.convert(args[i], params[i]);
    }
    return out;
  }

  private static String arities(List<Executable> candidates) {
    TreeSet<Integer> fixed = new TreeSet<>();
    int minVarargs = Integer.MAX_VALUE;
    for (Executable e : candidates) {
      if (e.isVarArgs()) {
        minVarargs = Math.min(minVarargs, e.getParameterCount() - 1);
      }
      fixed.add(e.getParameterCount());
    }
    List<String> parts = new ArrayList<>();
    for (int n : fixed) {
      parts.add(String.valueOf(n));
    }
    String list = parts.size() == 1 ? parts.get(0)
        : String.join(", ", parts.subList(0, parts.size() - 1)) + " or "
            + parts.get(parts.size() - 1);
    String plural = fixed.size() == 1 && fixed.first() == 1 ? " argument" : " arguments";
    return list + plural + (minVarargs != Integer.MAX_VALUE
        ? " (or at least " + minVarargs + " through varargs)" : "");
  }
}
