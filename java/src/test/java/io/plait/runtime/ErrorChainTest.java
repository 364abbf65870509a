package io.plait.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.plait.CrossLanguageException;
import io.plait.ErrorInfo;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Errors that crossed languages: a chained Error decodes into a CrossLanguageException
 * whose getCause() chain mirrors it, and a task that lets one propagate keeps it as its
 * failure's cause. */
class ErrorChainTest {
  private static final byte[] PICKLE = {(byte) 0x80, 5, 'x', '.'};

  private static ErrorInfo chain() {
    ErrorInfo origin = new ErrorInfo("builtins.ValueError", "bad input", "python",
        "Traceback ...\nValueError: bad input\n", null, PICKLE);
    ErrorInfo cpp = new ErrorInfo("plait::Exception", "builtins.ValueError: bad input", "cpp",
        "  in C++ relay", origin, null);
    return new ErrorInfo("io.plait.CrossLanguageException",
        "plait::Exception (cpp): builtins.ValueError: bad input", "java",
        "io.plait.CrossLanguageException: ...\n\tat a.B.c(B.java:1)\n", cpp, null);
  }

  @Test
  void chainedErrorDecodesWithEveryLink() {
    ErrorInfo decoded = (ErrorInfo) ObjectDecoder.decode(ObjectEncoder.encodeToBytes(chain()));
    assertEquals(chain(), decoded);
    CrossLanguageException e = decoded.toException();
    assertEquals("java", e.getLanguage());
    assertEquals("io.plait.CrossLanguageException", e.getTypeName());
    assertTrue(e.getRemoteStack().contains("at a.B.c"));
    assertEquals(List.of("python", "cpp", "java"), e.getLanguages());

    CrossLanguageException cpp = assertInstanceOf(CrossLanguageException.class, e.getCause());
    assertEquals("cpp", cpp.getLanguage());
    assertEquals("plait::Exception", cpp.getTypeName());
    assertEquals("  in C++ relay", cpp.getRemoteStack());
    assertEquals(List.of("python", "cpp"), cpp.getLanguages());

    CrossLanguageException origin = assertInstanceOf(CrossLanguageException.class, cpp.getCause());
    assertEquals("builtins.ValueError", origin.getTypeName());
    assertEquals("python", origin.getLanguage());
    assertEquals("bad input", origin.getRemoteMessage());
    assertArrayEquals(PICKLE, origin.getErrorInfo().pythonPickle());  // kept for Python
    assertNull(origin.getCause());
  }

  @Test
  void taskLettingACallsFailurePropagateKeepsItAsTheCause() {
    ErrorInfo remote = chain();
    TaskFailure direct = TaskFailure.user(remote.toException());
    assertEquals("io.plait.CrossLanguageException", direct.getTypeName());
    assertSame(remote, direct.getCauseInfo());
    assertEquals(remote, ObjectDecoder.decode(direct.getCauseError()));
    // The Java stack shows this hop only: the remote links are the cause, not Java frames.
    assertFalse(direct.getStackText().contains("Caused by"));

    TaskFailure wrapped =
        TaskFailure.user(new IllegalStateException("while relaying", remote.toException()));
    assertEquals("java.lang.IllegalStateException", wrapped.getTypeName());
    assertEquals("while relaying", wrapped.getRemoteMessage());
    assertSame(remote, wrapped.getCauseInfo());
    assertTrue(wrapped.getStackText().contains("Caused by: io.plait.CrossLanguageException"));
  }

  @Test
  void failureOfJavaCodeAloneHasNoCause() {
    TaskFailure plain = TaskFailure.user(new IllegalArgumentException("bad"));
    assertNull(plain.getCauseInfo());
    assertNull(plain.getCauseError());
    assertNull(TaskFailure.binding(new NoSuchMethodException("m")).getCauseError());
  }
}
